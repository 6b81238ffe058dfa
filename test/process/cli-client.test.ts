import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../bench/lib/children';
import type { CliIo } from '../../src/cli/command';
import { main } from '../../src/cli/main';
import { tempDir } from '../support/model-source';
import { FIXTURES } from '../support/service';
import { ROOT, type ServerProcess, startServerProcess } from '../support/server-process';

let server: ServerProcess;
let tmp: ReturnType<typeof tempDir>;
const digit = (d: number) => path.join(FIXTURES, 'mnist', `${d}.png`);

/** The CLI in-process against the server process, capturing what it prints. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { SPECSERVE_URL: server.url } };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  tmp = tempDir('specserve-cli-client-');
  server = await startServerProcess();
}, 120_000);
afterAll(async () => {
  await server?.stop();
  tmp.cleanUp();
});

describe('specserve classify | models | explain against a running server', () => {
  it('classify: a table with the best label of each image first, or JSON', async () => {
    const out = await run('classify', digit(7), digit(3), '--top-k', '2');
    expect(out).toMatchObject({ code: 0, stderr: '' });
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^image +model +label +score$/);
    expect(lines[1]).toMatch(new RegExp(`^${digit(7).replace(/[.]/g, '\\.')} +mnist:1 +7 +(0\\.9|1\\.0)\\d+$`));
    expect(lines[3]).toMatch(/3\.png +mnist:1 +3 +[01]\.\d{4}$/);
    expect(lines).toHaveLength(5);

    const json = await run('classify', path.join(FIXTURES, 'photos', 'dog.jpg'), '--model', 'imagenet', '--top-k', '3', '--json');
    expect(json.code).toBe(0);
    const [answer] = JSON.parse(json.stdout) as { predictions: { label: string }[] }[];
    expect(answer!.predictions.map((p) => p.label)[0]).toBe('beagle');
  });

  it('models: every served model in a table', async () => {
    const out = await run('models');
    expect(out.code).toBe(0);
    for (const name of ['mnist', 'fashion', 'imagenet', 'mnist-multilabel']) expect(out.stdout).toMatch(new RegExp(`^${name} +1 `, 'm'));
    expect(out.stdout).toMatch(/^mnist +1 +\S+ +\[28, 28, 1\] +softmax/m);
  });

  it('errors: the problem detail on stderr and exit 1; bad options exit 2', async () => {
    const missing = await run('classify', digit(7), '--model', 'letters');
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(/No model named 'letters'.*\(HTTP 404\)/);
    expect(await run('explain', digit(7))).toMatchObject({ code: 2, stderr: expect.stringContaining('--model is required') });
    const closed = await freePort(); // free: nothing listens there
    const unreachable = await run('models', '--url', `http://127.0.0.1:${closed}`);
    expect(unreachable).toMatchObject({ code: 1, stderr: `specserve models: cannot reach http://127.0.0.1:${closed}: ECONNREFUSED\n` });
  });

  it('explain --out writes the heatmap PNG (the CLI as its own process)', async () => {
    const out = path.join(tmp.dir, 'heat.png');
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src', 'cli', 'main.ts'), 'explain', digit(7), '--model', 'mnist', '--out', out, '--url', server.url], { cwd: ROOT });
    expect(stdout).toMatch(/heatmap of mnist for 7\.png written to/);
    expect(existsSync(out)).toBe(true);
    expect(readFileSync(out).subarray(1, 4).toString('latin1')).toBe('PNG');
    const grid = await run('explain', digit(7), '--model', 'mnist');
    expect(grid.code).toBe(0);
    expect(grid.stdout).toMatch(/says '7'/);
    expect(grid.stdout.trim().split('\n')).toHaveLength(14);
  });
});
