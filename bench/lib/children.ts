/**
 * Servers under test as child processes, and the guarantee that none outlives the bench.
 *
 * Each server is spawned `detached`, i.e. as the leader of its own process group, and is always
 * signalled as a group (`kill(-pid)`): if a server forks worker processes (the coming worker
 * pool may), those die with it instead of being orphaned. Every child is registered until it has
 * exited; on normal exit, on an error, and on SIGINT/SIGTERM of the bench the registered groups
 * are killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { sleep } from './env';

const live = new Set<ChildProcess>();

/**
 * Signals a child's whole process group. Failure is ignored: ESRCH means the group is already
 * gone, and this also runs from 'exit' handlers, where a throw would only hide the real error.
 */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

/** Registers a child so that `killAll` and the exit hooks reach it. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => {
    live.delete(child);
    // The leader may exit before processes it forked; take the rest of its group down too.
    signalGroup(child, 'SIGKILL');
  });
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

/** SIGTERM (a graceful stop), then SIGKILL after `graceMs`. Resolves once the leader has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

export async function killAll(): Promise<void> {
  await Promise.all([...live].map((child) => stopChild(child, 2000)));
}

let hooked = false;
/** Kills every registered group when the bench ends in any way, including Ctrl-C. */
export function installExitHooks(): void {
  if (hooked) return;
  hooked = true;
  // Last resort, synchronous: 'exit' handlers cannot wait, so no grace period here.
  process.on('exit', () => {
    for (const child of live) signalGroup(child, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the servers`);
      void killAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** The last `max` lines a child wrote (stdout and stderr interleaved), for failure reports. */
class Tail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  text(): string {
    return [...this.lines, this.partial].filter(Boolean).join('\n');
  }
}

export interface ServerSpec {
  name: string;
  /** A compiled .js file run with this node binary. */
  script: string;
  /** Instead of node + script: a program and its arguments (the Python peer's gunicorn). */
  command?: string[];
  /** Flags for node itself, before the script (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs: string[];
  env: NodeJS.ProcessEnv;
  readyPath: string;
  startTimeoutMs: number;
}

export interface RunningServer {
  name: string;
  pid: number;
  base: string;
  tail(): string;
  stop(): Promise<void>;
}

export class ServerStartError extends Error {
  constructor(name: string, reason: string, tail: string) {
    super(`${name} did not start: ${reason}\n--- last output of ${name} ---\n${tail || '(none)'}\n---`);
    this.name = 'ServerStartError';
  }
}

/**
 * Starts a server on a free loopback port and resolves once `readyPath` answers 200. The child's
 * output is always drained (a full pipe would block its logging) and its tail kept for errors.
 */
export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const [program, ...args] = spec.command ?? [process.execPath, ...spec.nodeArgs, spec.script];
  const child = spawn(program!, spec.command ? args.map((a) => a.replace('{port}', String(port))) : args, {
    // GRPC_PORT 0 unless the spec names one: a benchmark's servers must not all take 8500.
    // glibc's malloc settings as `npm start` and the container image run the server
    // (docs/operations.md): the arena cap for every server of the run alike, the fixed mmap
    // threshold for the Node servers only (a program of its own, the Python peer, runs as its
    // users run it: the threshold cost it 3-14% of its req/s in side-by-side runs).
    env: { GRPC_PORT: '0', MALLOC_ARENA_MAX: '2', ...(spec.command ? {} : { MALLOC_MMAP_THRESHOLD_: '1048576' }), ...spec.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  track(child);
  const tail = new Tail(40);
  child.stdout?.on('data', (c: Buffer) => tail.push(c));
  child.stderr?.on('data', (c: Buffer) => tail.push(c));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));

  const deadline = Date.now() + spec.startTimeoutMs;
  for (;;) {
    if (spawnError) throw new ServerStartError(spec.name, spawnError.message, tail.text());
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new ServerStartError(spec.name, `exited with ${child.exitCode ?? child.signalCode} before it was ready`, tail.text());
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new ServerStartError(spec.name, `${spec.readyPath} did not answer 200 within ${spec.startTimeoutMs / 1000} s`, tail.text());
    }
    try {
      const res = await fetch(base + spec.readyPath, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  return { name: spec.name, pid: child.pid as number, base, tail: () => tail.text(), stop: () => stopChild(child) };
}
