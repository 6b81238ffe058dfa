/**
 * The README's start command is `npm start`, so the documented signals must work through it:
 * npm's child is the server itself (no shell between them), SIGTERM to the npm process drains the
 * server, SIGHUP to the server's PID (the `listening` line's `pid`) reloads the store, and a
 * SIGHUP to npm (which npm does not forward, and which ends npm) does not leave the server running
 * unsupervised: it drains and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../bench/lib/children';
import { MNIST_DIR, tempDir } from '../support/model-source';

jest.setTimeout(240_000);

const ROOT = path.join(__dirname, '..', '..');

interface Started {
  npm: ChildProcess;
  port: number;
  /** The server's JSON log lines so far. */
  lines: () => Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** `npm start` on a store of its own; `extraArgs` e.g. --ignore-scripts (skips the prestart build). */
function npmStart(store: string, port: number, extraArgs: string[] = []): Started {
  const npm = spawn('npm', ['start', ...extraArgs], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: '1', MODEL_STORE: store, MODEL_POLL_SECONDS: '0', LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  npm.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
  const lines = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { npm, port, lines, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function getJson(port: number, route: string): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${route}`);
    return { status: res.status, body: await res.json() };
  } catch {
    return undefined; // not listening yet
  }
}

function parentOf(pid: number): number {
  // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function serverPid(started: Started): Promise<number> {
  const listening = await until('the listening line', () => started.lines().find((l) => l.msg === 'listening'));
  return listening.pid as number;
}

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('specserve-npm-start-');
});
afterAll(() => tmp.cleanUp());

it('npm start: the server is npm\'s child; SIGHUP to it reloads; SIGTERM to npm drains and exits 0', async () => {
  const store = path.join(tmp.dir, 'store-a');
  cpSync(MNIST_DIR, path.join(store, 'mnist', '1'), { recursive: true });
  const started = npmStart(store, await freePort());
  try {
    const pid = await serverPid(started);
    expect(parentOf(pid)).toBe(started.npm.pid);
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('node');
    await until('readiness', async () => ((await getJson(started.port, '/v2/health/ready'))?.status === 200 ? true : undefined));

    // A new version, placed atomically; polling is off, so only the signal can make the server see it.
    cpSync(MNIST_DIR, path.join(store, 'mnist', '.incoming'), { recursive: true });
    renameSync(path.join(store, 'mnist', '.incoming'), path.join(store, 'mnist', '2'));
    process.kill(pid, 'SIGHUP');
    const status = await until('version 2 to be available', async () => {
      const res = await getJson(started.port, '/v1/models/mnist/versions/2');
      return res?.status === 200 && JSON.stringify(res.body).includes('AVAILABLE') ? res.body : undefined;
    });
    expect(status).toEqual({ model_version_status: [{ version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });

    started.npm.kill('SIGTERM');
    await started.exited;
    await until('the server to exit', () => (isRunning(pid) ? undefined : true), 30_000);
    expect(started.lines().find((l) => l.msg === 'shutting down')).toEqual(expect.objectContaining({ reason: 'SIGTERM' }));
    expect(started.lines().find((l) => l.msg === 'shut down')).toEqual(expect.objectContaining({ clean: true }));
  } finally {
    started.npm.kill('SIGKILL');
  }
});

it('a SIGHUP to npm (not forwarded; it ends npm) makes the orphaned server drain and exit', async () => {
  const store = path.join(tmp.dir, 'store-b');
  cpSync(MNIST_DIR, path.join(store, 'mnist', '1'), { recursive: true });
  // The first test built dist/; --ignore-scripts skips the prestart build, not the start script.
  const started = npmStart(store, await freePort(), ['--ignore-scripts']);
  let pid: number | undefined;
  try {
    pid = await serverPid(started);
    await until('readiness', async () => ((await getJson(started.port, '/v2/health/ready'))?.status === 200 ? true : undefined));
    started.npm.kill('SIGHUP');
    await started.exited;
    await until('the orphaned server to exit', () => (isRunning(pid!) ? undefined : true), 30_000);
    expect(started.lines().find((l) => l.msg === 'shutting down')).toEqual(expect.objectContaining({ reason: 'parent process exited' }));
  } finally {
    if (pid !== undefined && isRunning(pid)) process.kill(pid, 'SIGKILL');
  }
});
