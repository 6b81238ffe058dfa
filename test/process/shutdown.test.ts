/**
 * SIGTERM under load against the real server process (two serving threads): every request the server accepted (its
 * request log has a line for each) is answered 200 to the client; connections that the server
 * never took from the kernel's accept backlog are refused or reset (a client cannot tell those
 * apart from a drop, so the server's own log is the witness); the process exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import path from 'node:path';
import { multipartFile } from '../support/multipart';
import { fixture } from '../support/service';
import { freePort } from '../../bench/lib/children';

const ROOT = path.join(__dirname, '..', '..');
const DIGIT = fixture('mnist', '7.png');
const UPLOAD = multipartFile('file', '7.png', 'image/png', DIGIT);
const BODY = UPLOAD.body;

type Outcome = { kind: 'answered'; status: number; digit?: number } | { kind: 'refused' } | { kind: 'dropped'; error: string };

/**
 * One request, on a fresh connection or on `agent`'s kept-alive ones (a keep-alive client must be
 * told to close, or the server would wait for it until the grace period ends).
 */
function classify(port: number, agent: Agent | false): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/mnist/classify', method: 'POST', agent, headers: { 'content-type': UPLOAD.contentType, 'content-length': BODY.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { digit?: number };
          resolve({ kind: 'answered', status: res.statusCode ?? 0, digit: body.digit });
        });
        res.on('error', (e) => resolve({ kind: 'dropped', error: e.message }));
      },
    );
    // Refused: the connection never reached the server (ECONNREFUSED, or reset while still in the
    // kernel's accept backlog when the listener closed: the error is then raised by connect()).
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve(e.code === 'ECONNREFUSED' || e.syscall === 'connect' ? { kind: 'refused' } : { kind: 'dropped', error: `${e.code ?? ''} ${e.message}` }),
    );
    req.end(BODY);
  });
}

async function waitReady(port: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode})`);
    const status = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/v2/health/ready', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.end();
    });
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server not ready within 60 s');
}

it('SIGTERM under load: no accepted request fails, exit code 0', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src', 'server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', SERVING_THREADS: '2', WORKERS: '0', MODEL_POLL_SECONDS: '0', LOG_LEVEL: 'info', LOG_FORMAT: 'json', SHUTDOWN_GRACE_MS: '20000' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitReady(port, child);
    const outcomes: Outcome[] = [];
    let stopping = false;
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
    const client = async (_: unknown, i: number) => {
      // Keep sending until the server refuses connections (it has closed its listener).
      for (;;) {
        const outcome = await classify(port, i % 2 === 0 ? false : keepAlive);
        outcomes.push(outcome);
        if (outcome.kind === 'refused') return;
        if (outcome.kind === 'dropped' && stopping) return;
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await new Promise((r) => setTimeout(r, 1500));
    stopping = true;
    child.kill('SIGTERM');
    await Promise.all(clients);
    expect(await exited).toBe(0);

    const answered = outcomes.filter((o) => o.kind === 'answered');
    const lines = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; thread?: number; url?: string; status?: number; aborted?: boolean; clean?: boolean });
    const accepted = lines.filter((line) => line.msg === 'request completed' && line.url === '/mnist/classify');
    expect(answered.length).toBeGreaterThan(20);
    // Every request the server accepted was answered, 200, and reached the client.
    expect(accepted.filter((line) => line.status !== 200 || line.aborted)).toEqual([]);
    expect(accepted.length).toBe(answered.length);
    expect(answered.filter((o) => o.status !== 200 || o.digit !== 7)).toEqual([]);
    // The rest never reached the server: refused at connect, or reset in the accept backlog.
    expect(outcomes.filter((o) => o.kind !== 'answered').length).toBeGreaterThan(0);
    expect(stderr).not.toMatch(/"level":"error"/);
    // Both serving threads answered, and each drained well within the grace period although half
    // the clients keep their connections alive.
    expect(new Set(accepted.map((line) => line.thread))).toEqual(new Set([1, 2]));
    expect(lines.filter((line) => line.msg === 'shut down').map((line) => [line.thread, line.clean]).sort()).toEqual([
      [1, true],
      [2, true],
    ]);
    keepAlive.destroy();
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}, 120_000);
