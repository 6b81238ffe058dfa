/**
 * The real server with two serving threads on one port (SERVING_THREADS=2, inference inline: WORKERS=0): once it is ready,
 * connections reach both threads, each answers in full (the digit), /metrics on either counts the requests of both,
 * a SIGHUP reaches both (each serves a new version), and SIGTERM drains both and exits 0.
 */
import { cpSync, renameSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { DEFAULT_MODEL_STORE } from '../../src/paths';
import { tempDir } from '../support/model-source';
import { multipartFile } from '../support/multipart';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { fixture } from '../support/service';

const UPLOAD = multipartFile('file', '7.png', 'image/png', fixture('mnist', '7.png'));

/** One request on a connection of its own (agent: false), so the kernel picks a thread for each. */
function send(url: string, method: 'GET' | 'POST', route: string): Promise<{ status: number; text: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const headers = method === 'POST' ? { 'content-type': UPLOAD.contentType, 'content-length': UPLOAD.body.length } : {};
    const req = request({ host: '127.0.0.1', port, path: route, method, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? UPLOAD.body : undefined);
  });
}

const lines = (server: ServerProcess) =>
  server
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; thread?: number; url?: string; status?: number; clean?: boolean });

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('specserve-serving-threads-');
});
afterAll(() => tmp.cleanUp());

it('two serving threads: both answer, /metrics counts both, SIGHUP reaches both, SIGTERM drains both', async () => {
  const store = path.join(tmp.dir, 'store');
  cpSync(path.join(DEFAULT_MODEL_STORE, 'mnist', '1'), path.join(store, 'mnist', '1'), { recursive: true });
  const server = await startServerProcess({ SERVING_THREADS: '2', WORKERS: '0', MODEL_STORE: store, LOG_LEVEL: 'info' });
  try {
    // Ready (startServerProcess waited for it) means every thread has loaded and accepts.
    const answers: { status: number; text: string }[] = [];
    for (let round = 0; round < 8; round++) answers.push(...(await Promise.all(Array.from({ length: 8 }, () => send(server.url, 'POST', '/mnist/classify')))));
    expect(answers.map((a) => [a.status, (JSON.parse(a.text) as { digit: number }).digit])).toEqual(Array(64).fill([200, 7]));
    // A request's log line is written when its answer has gone out: it may come a moment after.
    const served = () => lines(server).filter((l) => l.msg === 'request completed' && l.url === '/mnist/classify');
    for (const deadline = Date.now() + 5_000; served().length < 64 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    expect(served()).toHaveLength(64);
    expect(new Set(served().map((l) => l.thread))).toEqual(new Set([1, 2]));

    // Whichever thread answers /metrics counts every thread's requests.
    for (let i = 0; i < 4; i++) {
      const metrics = await send(server.url, 'GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('specserve_http_request_duration_seconds_count{method="POST",route="/mnist/classify",status_code="200"} 64\n');
      expect(metrics.text).toMatch(/^specserve_inference_inputs_total\{model="mnist",version="1",outcome="success"\} 64$/m);
    }

    // Polling is off: only the signal makes the threads read the store, and every one must.
    cpSync(path.join(DEFAULT_MODEL_STORE, 'mnist', '1'), path.join(store, 'mnist', '.incoming'), { recursive: true });
    renameSync(path.join(store, 'mnist', '.incoming'), path.join(store, 'mnist', '2'));
    server.child.kill('SIGHUP');
    for (const deadline = Date.now() + 30_000; lines(server).filter((l) => l.msg === 'model available' && (l as { version?: number }).version === 2).length < 2; ) {
      if (Date.now() > deadline) throw new Error(`version 2 did not become available in both threads:\n${server.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const statuses = await Promise.all(Array.from({ length: 12 }, () => send(server.url, 'GET', '/v1/models/mnist/versions/2')));
    expect(statuses.map((s) => s.status)).toEqual(Array(12).fill(200));

    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const shutDown = lines(server).filter((l) => l.msg === 'shut down');
    expect(shutDown.map((l) => [l.thread, l.clean]).sort()).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(server.stderr()).not.toMatch(/"level":"error"/);
  } finally {
    await server.stop();
  }
}, 120_000);
