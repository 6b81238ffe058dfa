import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadConfig } from '../../src/config';

/** The CI workflow, the Dockerfile's pruning step and the compose file, checked offline. */
const ROOT = path.join(__dirname, '..', '..');
const WORKFLOW = path.join(ROOT, '.github', 'workflows', 'ci.yml');
const ACTION_VALIDATOR = path.join(ROOT, 'node_modules', '@action-validator', 'cli', 'cli.mjs');

/** Parsed YAML, read field by field. */
type Obj = any;

const validateWorkflow = (file: string) => spawnSync(process.execPath, [ACTION_VALIDATOR, file], { encoding: 'utf8' });

describe('.github/workflows/ci.yml', () => {
  const workflow = yaml.load(readFileSync(WORKFLOW, 'utf8')) as Obj;
  const steps = (job: string): Obj[] => workflow.jobs[job].steps;
  const runs = (job: string): string => steps(job).map((s) => s.run ?? '').join('\n');

  it('is a valid GitHub Actions workflow (@action-validator/cli), and the validator rejects a broken one', () => {
    const run = validateWorkflow(WORKFLOW);
    expect({ status: run.status, out: run.stdout + run.stderr }).toEqual({ status: 0, out: '' });
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'workflow-'));
    try {
      const broken = structuredClone(workflow);
      broken.jobs.test['runs-onn'] = broken.jobs.test['runs-on'];
      delete broken.jobs.test['runs-on'];
      writeFileSync(path.join(tmp, 'ci.yml'), yaml.dump(broken));
      const bad = validateWorkflow(path.join(tmp, 'ci.yml'));
      expect(bad.status).toBe(1);
      expect(bad.stdout + bad.stderr).toMatch(/runs-onn/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('installs from the lock file, type-checks and runs the tests on Node 20 and 22', () => {
    expect(workflow.jobs.test.strategy.matrix.node).toEqual([20, 22]);
    expect(steps('test').find((s) => s.uses?.startsWith('actions/setup-node'))?.with['node-version']).toBe('${{ matrix.node }}');
    expect(runs('test')).toMatch(/npm ci[\s\S]*npm run typecheck[\s\S]*npm test/);
  });

  it('builds the image with a layer cache after the tests, checks its size budget, and pushes only on tags', () => {
    expect(workflow.jobs.image.needs).toBe('test');
    const builds = steps('image').filter((s) => s.uses?.startsWith('docker/build-push-action'));
    expect(builds[0].with).toMatchObject({ 'cache-from': 'type=gha', 'cache-to': 'type=gha,mode=max', load: true });
    const push = builds.find((s) => s.with.push === true);
    expect(push.if).toBe("startsWith(github.ref, 'refs/tags/v')");
    expect(steps('image').find((s) => s.uses?.startsWith('docker/login-action')).if).toBe(push.if);
    expect(workflow.on.push.tags).toEqual(['v*']);
    // The budget CI enforces is the one the Dockerfile states.
    const budgetMb = Number(/Size budget[^:]*: (\d+) MB/.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1]);
    expect(Number(workflow.env.IMAGE_BUDGET_BYTES)).toBe(budgetMb * 2 ** 20);
    expect(runs('image')).toMatch(/docker image inspect .*Size/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\w+)/gm)].map((m) => m[1]);

  it('is multi-stage, runs as the non-root node user, with a HEALTHCHECK on a route of the API', () => {
    expect(stages).toEqual(['build', 'deps', 'runtime']);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).not.toMatch(/npm ci|--from=build \/app\/node_modules/); // only the pruned deps stage's node_modules
    const healthPath = /HEALTHCHECK[\s\S]*?\/v2\/health\/ready/.exec(runtime);
    expect(healthPath).not.toBeNull();
    expect(readFileSync(path.join(ROOT, 'api', 'models.yaml'), 'utf8')).toMatch(/^ {2}\/v2\/health\/ready:$/m);
    expect(runtime).toMatch(/^EXPOSE 5000 8500$/m);
    expect(/ENV .*PORT=(\d+)/.exec(runtime)?.[1]).toBe(String(loadConfig({}).port));
  });

  it('prunes every native binary but linux/<arch>, source maps, and tfjs-node unless asked to keep it', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'prune-'));
    const nm = path.join(tmp, 'node_modules');
    const touch = (...parts: string[]) => {
      mkdirSync(path.join(nm, ...parts.slice(0, -1)), { recursive: true });
      writeFileSync(path.join(nm, ...parts), 'x');
    };
    try {
      for (const platform of ['darwin', 'linux', 'win32']) for (const arch of ['x64', 'arm64']) touch('onnxruntime-node', 'bin', 'napi-v6', platform, arch, 'onnxruntime_binding.node');
      for (const p of ['linux-x64', 'linuxmusl-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64']) {
        touch('@img', `sharp-${p}`, 'lib', 'sharp.node');
        touch('@img', `sharp-libvips-${p}`, 'lib', 'libvips.so');
      }
      touch('@tensorflow', 'tfjs-node', 'index.js');
      touch('@tensorflow', 'tfjs', 'dist', 'tf.node.js');
      touch('@tensorflow', 'tfjs', 'dist', 'tf.node.js.map');
      touch('@tensorflow', 'tfjs', 'dist', 'index.d.ts');
      const run = spawnSync(process.execPath, [path.join(ROOT, 'deploy', 'docker', 'prune-node-modules.mjs'), nm, 'amd64'], { encoding: 'utf8' });
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/kept linux\/x64 binaries/);
      const left = (...parts: string[]) => existsSync(path.join(nm, ...parts));
      expect(['darwin', 'linux', 'win32'].flatMap((p) => ['x64', 'arm64'].filter((a) => left('onnxruntime-node', 'bin', 'napi-v6', p, a)).map((a) => `${p}/${a}`))).toEqual(['linux/x64']);
      expect(['linux-x64', 'linuxmusl-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64'].filter((p) => left('@img', `sharp-${p}`) || left('@img', `sharp-libvips-${p}`))).toEqual(['linux-x64']);
      expect(left('@img', 'sharp-linux-x64', 'lib', 'sharp.node')).toBe(true);
      expect(left('@tensorflow', 'tfjs-node')).toBe(false);
      expect(left('@tensorflow', 'tfjs', 'dist', 'tf.node.js')).toBe(true);
      expect(left('@tensorflow', 'tfjs', 'dist', 'tf.node.js.map') || left('@tensorflow', 'tfjs', 'dist', 'index.d.ts')).toBe(false);

      touch('@tensorflow', 'tfjs-node', 'index.js');
      expect(spawnSync(process.execPath, [path.join(ROOT, 'deploy', 'docker', 'prune-node-modules.mjs'), nm, 'arm64', '--keep-tfjs-node']).status).toBe(0);
      expect(left('@tensorflow', 'tfjs-node', 'index.js')).toBe(true);
      expect(left('onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64')).toBe(false); // arm64 keeps only arm64 (none left here)
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = yaml.load(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as Obj;

  it('Prometheus is optional (a profile) and scrapes the server\'s /metrics on its port', () => {
    expect(compose.services.prometheus.profiles).toEqual(['monitoring']);
    expect(compose.services.specserve.profiles).toBeUndefined();
    const [, source] = compose.services.prometheus.volumes[0].split(':');
    expect(source).toBe('/etc/prometheus/prometheus.yml');
    const scrape = yaml.load(readFileSync(path.join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as Obj;
    const job = scrape.scrape_configs.find((j: Obj) => j.job_name === 'specserve');
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs[0].targets).toEqual([`specserve:${compose.services.specserve.environment.PORT}`]);
  });

  it('gives SIGTERM more than SHUTDOWN_GRACE_MS, on a read-only root filesystem', () => {
    expect(Number(/^(\d+)s$/.exec(compose.services.specserve.stop_grace_period)?.[1]) * 1000).toBeGreaterThan(loadConfig(compose.services.specserve.environment).shutdownGraceMs);
    expect(compose.services.specserve.read_only).toBe(true);
  });
});
