/**
 * Soak test of the real server over loopback:
 *   npm run soak                     (builds, then runs dist/scripts/soak.js)
 *   npx ts-node scripts/soak.ts      (needs a build: it starts dist/src/server.js)
 * Starts dist/src/server.js on a free port, waits for GET /v2/health/ready, then sends SOAK_TOTAL
 * requests (default 100,000) at SOAK_CONCURRENCY (default 16) over keep-alive connections, in a
 * fixed seeded mix (SOAK_SEED) of valid requests (uploads of several fixtures to several routes,
 * TF Serving and KServe JSON) and invalid ones (garbage bytes, truncated PNGs, wrong fields, bad
 * JSON, ...). Reports:
 *   - answers by status, and per kind of request: expected vs got. An error is a valid request
 *     answered non-2xx (or with a wrong answer), an invalid one answered 2xx or 5xx, a connection
 *     failure or a timeout;
 *   - the server's RSS (VmRSS of its process; the inference worker threads are inside it) at the
 *     start, every 10% and at the end, with a verdict: levelled off when it grew less than 10%
 *     over the last half of the run.
 * Exit status 1 when there was any error, the RSS did not level off, or the server died. The
 * server is stopped at the end, also on an error or Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/paths';
import { freePort } from '../bench/lib/children';
import { mulberry32 } from '../src/training/prng';
import { pngClaiming } from '../test/support/png-bytes';

const TOTAL = Number(process.env.SOAK_TOTAL ?? 100_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 16);
const SEED = Number(process.env.SOAK_SEED ?? 20_250_611);
const REQUEST_TIMEOUT_MS = Number(process.env.SOAK_REQUEST_TIMEOUT_MS ?? 60_000);
/** The RSS verdict: growth over the last half of the run below this fraction. */
const LEVEL_OFF_GROWTH = 0.1;
const SERVER = path.join(PROJECT_ROOT, 'dist', 'src', 'server.js');
const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures');

for (const [name, value] of [['SOAK_TOTAL', TOTAL], ['SOAK_CONCURRENCY', CONCURRENCY], ['SOAK_SEED', SEED]] as const) {
  if (!Number.isSafeInteger(value) || value < (name === 'SOAK_SEED' ? 0 : 1)) {
    console.error(`${name}=${process.env[name]}: expected a whole number${name === 'SOAK_SEED' ? '' : ' >= 1'}`);
    process.exit(2);
  }
}

// ---- the request mix -----------------------------------------------------------------------

const fixture = (...parts: string[]) => readFileSync(path.join(FIXTURES, ...parts));

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
}

interface Kind {
  name: string;
  weight: number;
  method: 'POST' | 'GET';
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Valid requests must be answered 2xx (and pass `check`); invalid ones 4xx, ideally `status`. */
  valid: boolean;
  status: number;
  /** For valid requests: is the answer right (e.g. 7.png is a 7)? */
  check?: (json: unknown) => boolean;
}

let boundaryCount = 0;
function multipart(parts: { field: string; filename?: string; type?: string; data: Buffer }[], { closing = true } = {}): { headers: Record<string, string>; body: Buffer } {
  const boundary = `----soak${(boundaryCount++).toString(36)}x${SEED.toString(36)}`;
  const chunks: Buffer[] = [];
  for (const { field, filename, type, data } of parts) {
    const disposition = `form-data; name="${field}"${filename === undefined ? '' : `; filename="${filename}"`}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n`), data, Buffer.from('\r\n'));
  }
  if (closing) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat(chunks) };
}

const upload = (field: string, filename: string, data: Buffer) => multipart([{ field, filename, type: filename.endsWith('.jpg') ? 'image/jpeg' : 'image/png', data }]);
const json = (value: unknown) => ({ headers: { 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify(value)) });
const rawJson = (text: string) => ({ headers: { 'Content-Type': 'application/json' }, body: Buffer.from(text) });

const argmax = (row: unknown): number => (Array.isArray(row) ? row.indexOf(Math.max(...(row as number[]))) : -1);

/** A 28x28 digit as numbers 0..1 (the 7 of the fixtures, drawn as a bar and a stroke). */
function digitPixels(): number[][] {
  return Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => ((r >= 6 && r <= 8 && c >= 7 && c <= 21) || (r > 8 && r <= 22 && Math.abs(c - (21 - (r - 8) * 0.5)) <= 1.2) ? 1 : 0)));
}

function buildMix(): Kind[] {
  const seven = fixture('mnist', '7.png');
  const three = fixture('mnist', '3.png');
  const nine = fixture('mnist', '9.png');
  const multi = fixture('multilabel', '0-5.png');
  const dog = fixture('photos', 'dog.jpg');
  const car = fixture('photos', 'car.jpg');
  const seven64 = seven.toString('base64');
  const pixels = digitPixels();
  const kinds: Omit<Kind, 'method'>[] = [
    // ---- valid ----
    { name: 'upload 7.png /mnist/classify', weight: 10, path: '/mnist/classify', ...upload('file', '7.png', seven), valid: true, status: 200, check: (b) => (b as { digit?: number }).digit === 7 },
    { name: 'upload 3.png /models/mnist/classify', weight: 6, path: '/models/mnist/classify?top_k=3', ...upload('file', '3.png', three), valid: true, status: 200, check: (b) => (b as { predictions?: { label: string }[] }).predictions?.[0]?.label === '3' },
    { name: 'upload 9.png /models/fashion/classify', weight: 3, path: '/models/fashion/classify', ...upload('file', '9.png', nine), valid: true, status: 200 },
    { name: 'upload 0-5.png /scorefile/', weight: 5, path: '/scorefile/', ...upload('file', '0-5.png', multi), valid: true, status: 200 },
    { name: 'upload dog.jpg /predict', weight: 3, path: '/predict', ...upload('image', 'dog.jpg', dog), valid: true, status: 200, check: (b) => (b as { success?: boolean }).success === true },
    { name: 'upload car.jpg /inference', weight: 3, path: '/inference', ...upload('image', 'car.jpg', car), valid: true, status: 200 },
    { name: 'TF :predict b64 7.png', weight: 8, path: '/v1/models/mnist:predict', ...json({ instances: [{ b64: seven64 }] }), valid: true, status: 200, check: (b) => argmax((b as { predictions?: unknown[] }).predictions?.[0]) === 7 },
    { name: 'TF :predict 28x28 numbers', weight: 6, path: '/v1/models/mnist:predict', ...json({ instances: [pixels, pixels] }), valid: true, status: 200 },
    { name: 'TF :classify examples b64', weight: 4, path: '/v1/models/mnist:classify', ...json({ examples: [{ image: { b64: seven64 } }] }), valid: true, status: 200, check: (b) => (b as { result?: [string, number][][] }).result?.[0]?.[0]?.[0] === '7' },
    { name: 'KServe infer FP32 + classification', weight: 6, path: '/v2/models/mnist/infer', ...json({ id: 'soak', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28], data: pixels.flat() }], outputs: [{ name: 'probs', parameters: { classification: 3 } }] }), valid: true, status: 200 },
    // ---- invalid ----
    { name: 'garbage bytes /mnist/classify', weight: 5, path: '/mnist/classify', ...upload('file', 'x.png', Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 131 + 7) & 0xff))), valid: false, status: 415 },
    { name: 'truncated PNG /mnist/classify', weight: 5, path: '/mnist/classify', ...upload('file', 'cut.png', seven.subarray(0, Math.floor(seven.length / 2))), valid: false, status: 400 },
    { name: 'truncated JPEG /predict', weight: 2, path: '/predict', ...upload('image', 'cut.jpg', dog.subarray(0, Math.floor(dog.length / 3))), valid: false, status: 400 },
    { name: 'PNG claiming 100000x100000', weight: 2, path: '/models/mnist/classify', ...upload('file', 'bomb.png', pngClaiming(100_000, 100_000)), valid: false, status: 413 },
    { name: 'wrong field name /predict', weight: 4, path: '/predict', ...upload('file', '7.png', seven), valid: false, status: 400 },
    { name: 'two files /scorefile/', weight: 2, path: '/scorefile/', ...multipart([{ field: 'file', filename: 'a.png', data: seven }, { field: 'file', filename: 'b.png', data: seven }]), valid: false, status: 400 },
    { name: 'multipart cut off mid-file', weight: 3, path: '/mnist/classify', ...multipart([{ field: 'file', filename: '7.png', type: 'image/png', data: seven.subarray(0, 60) }], { closing: false }), valid: false, status: 400 },
    { name: 'JSON to an upload route', weight: 2, path: '/mnist/classify', ...json({ file: seven64 }), valid: false, status: 415 },
    { name: 'bad JSON text', weight: 4, path: '/v1/models/mnist:predict', ...rawJson('{"instances": [[0.1, 0.2,'), valid: false, status: 400 },
    { name: 'TF :predict wrong shape', weight: 3, path: '/v1/models/mnist:predict', ...json({ instances: [[[0.1, 0.2], [0.3, 0.4]]] }), valid: false, status: 400 },
    { name: 'TF :predict bad b64', weight: 3, path: '/v1/models/mnist:predict', ...json({ instances: [{ b64: 'not*base64!' }] }), valid: false, status: 400 },
    { name: 'TF :predict b64 of garbage', weight: 2, path: '/v1/models/mnist:predict', ...json({ instances: [{ b64: Buffer.from('hello, not an image').toString('base64') }] }), valid: false, status: 415 },
    { name: 'KServe infer INT32', weight: 3, path: '/v2/models/mnist/infer', ...json({ inputs: [{ name: 'image', datatype: 'INT32', shape: [1, 28, 28], data: pixels.flat() }] }), valid: false, status: 400 },
    { name: 'KServe infer NaN-ish strings', weight: 2, path: '/v2/models/mnist/infer', ...json({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 2, 2], data: ['NaN', 'Infinity', 1, 2] }] }), valid: false, status: 400 },
    { name: 'unknown model', weight: 2, path: '/v1/models/nope:predict', ...json({ instances: [{ b64: seven64 }] }), valid: false, status: 404 },
  ];
  return kinds.map((k) => ({ ...k, method: 'POST' as const }));
}

function picker(kinds: Kind[], random: () => number): () => Kind {
  const total = kinds.reduce((sum, k) => sum + k.weight, 0);
  return () => {
    let r = random() * total;
    for (const kind of kinds) {
      r -= kind.weight;
      if (r < 0) return kind;
    }
    return kinds[kinds.length - 1]!;
  };
}

// ---- HTTP ----------------------------------------------------------------------------------

function send(agent: http.Agent, port: number, kind: Kind): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: kind.method, path: kind.path, agent, headers: { ...kind.headers, 'Content-Length': String(kind.body.length) }, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(kind.body);
  });
}

// ---- server --------------------------------------------------------------------------------

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

async function waitReady(base: string, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`the server exited (${server.exitCode ?? server.signalCode}) before it was ready`);
    try {
      const res = await fetch(`${base}/v2/health/ready`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the server did not become ready within 120 s');
}

function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => server.kill('SIGKILL'), 10_000);
    server.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    server.kill('SIGTERM');
  });
}

// ---- report --------------------------------------------------------------------------------

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

interface KindStats {
  sent: number;
  statuses: Map<number, number>;
  errors: number;
  wrongStatus: number;
  sample?: string;
}

type Outcome = 'ok' | 'valid answered non-2xx' | 'valid answered wrongly' | 'invalid answered 2xx' | 'invalid answered 5xx' | 'not problem+json' | 'network error';

function judge(kind: Kind, answer: Answer): Outcome {
  if (kind.valid) {
    if (answer.status < 200 || answer.status >= 300) return 'valid answered non-2xx';
    if (kind.check) {
      try {
        if (!kind.check(JSON.parse(answer.body.toString('utf8')))) return 'valid answered wrongly';
      } catch {
        return 'valid answered wrongly';
      }
    }
    return 'ok';
  }
  if (answer.status >= 200 && answer.status < 300) return 'invalid answered 2xx';
  if (answer.status >= 500) return 'invalid answered 5xx';
  if (!answer.contentType.startsWith('application/problem+json')) return 'not problem+json';
  return 'ok';
}

async function main(): Promise<void> {
  if (!existsSync(SERVER)) throw new Error(`${path.relative(process.cwd(), SERVER)} does not exist: run \`npm run build\` first (or \`npm run soak\`).`);
  const kinds = buildMix();
  const next = picker(kinds, mulberry32(SEED));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', MODEL_POLL_SECONDS: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let serverDied: string | undefined;
  server.once('exit', (code, signal) => (serverDied = `the server exited (${code ?? signal}) during the run`));
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the server`);
    void stopServer(server).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    await waitReady(base, server);
    const pid = server.pid as number;
    const rss: { label: string; done: number; mb: number; seconds: number }[] = [{ label: 'start', done: 0, mb: rssMb(pid), seconds: 0 }];
    console.log(`soak: ${TOTAL} requests at concurrency ${CONCURRENCY}, seed ${SEED}, ${kinds.length} kinds (${kinds.filter((k) => k.valid).length} valid), server pid ${pid}, RSS at start ${rss[0]!.mb.toFixed(0)} MB`);

    const stats = new Map<string, KindStats>(kinds.map((k) => [k.name, { sent: 0, statuses: new Map(), errors: 0, wrongStatus: 0 }]));
    const byStatus = new Map<number, number>();
    const outcomes = new Map<Outcome, number>();
    const latencies = new Float64Array(TOTAL);
    const every = Math.max(1, Math.floor(TOTAL / 10));
    let sent = 0;
    let done = 0;
    const started = performance.now();

    const client = async (): Promise<void> => {
      while (sent < TOTAL && !serverDied) {
        const index = sent++;
        const kind = next();
        const s = stats.get(kind.name)!;
        s.sent++;
        const t0 = performance.now();
        let outcome: Outcome;
        try {
          const answer = await send(agent, port, kind);
          latencies[index] = performance.now() - t0;
          byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
          s.statuses.set(answer.status, (s.statuses.get(answer.status) ?? 0) + 1);
          outcome = judge(kind, answer);
          if (answer.status !== kind.status) s.wrongStatus++;
          if (outcome !== 'ok') s.sample ??= `${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`;
        } catch (e) {
          latencies[index] = performance.now() - t0;
          outcome = 'network error';
          s.sample ??= (e as Error).message;
        }
        if (outcome !== 'ok') s.errors++;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        done++;
        if (done % every === 0 || done === TOTAL) {
          const seconds = (performance.now() - started) / 1000;
          const point = { label: `${Math.round((done / TOTAL) * 100)}%`, done, mb: rssMb(pid), seconds };
          rss.push(point);
          const errors = [...outcomes.entries()].filter(([o]) => o !== 'ok').reduce((n, [, c]) => n + c, 0);
          console.log(`  ${point.label.padStart(4)}  ${String(done).padStart(7)} done  ${seconds.toFixed(1).padStart(7)} s  ${(done / seconds).toFixed(0).padStart(5)} req/s  RSS ${point.mb.toFixed(0)} MB  errors ${errors}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    const seconds = (performance.now() - started) / 1000;
    if (serverDied) throw new Error(serverDied);
    rss[rss.length - 1]!.label = 'end';

    // ---- report ----
    const sorted = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1);
    console.log(`\n${done} requests in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(0)} req/s), latency p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms\n`);

    console.log('Answers by status');
    console.log(table(['status', 'count', 'share'], [...byStatus.entries()].sort(([a], [b]) => a - b).map(([status, n]) => [status, n, `${((n / done) * 100).toFixed(1)}%`])));

    console.log('\nBy kind of request (expected vs got)');
    console.log(
      table(
        ['kind', 'valid', 'expected', 'sent', 'got', 'other status', 'errors'],
        kinds.map((k) => {
          const s = stats.get(k.name)!;
          const got = [...s.statuses.entries()].sort(([a], [b]) => a - b).map(([st, n]) => `${st}x${n}`).join(' ') || '-';
          return [k.name, k.valid ? 'yes' : 'no', k.status, s.sent, got, s.wrongStatus, s.errors];
        }),
      ),
    );
    const samples = kinds.filter((k) => stats.get(k.name)!.sample);
    if (samples.length > 0) {
      console.log('\nFirst error answer per kind');
      for (const k of samples) console.log(`  ${k.name}: ${stats.get(k.name)!.sample}`);
    }

    console.log('\nOutcomes');
    console.log(table(['outcome', 'count'], [...outcomes.entries()].sort(([a], [b]) => (a === 'ok' ? -1 : b === 'ok' ? 1 : a.localeCompare(b))).map(([o, n]) => [o, n])));

    const start = rss[0]!.mb;
    const half = rss.find((p) => p.done >= TOTAL / 2) ?? rss[rss.length - 1]!;
    const end = rss[rss.length - 1]!.mb;
    const peak = Math.max(...rss.map((p) => p.mb));
    const growth = (end - half.mb) / half.mb;
    console.log('\nServer RSS (VmRSS of the server process, worker threads included)');
    console.log(table(['point', 'requests', 'seconds', 'RSS MB', 'vs start'], rss.map((p) => [p.label, p.done, p.seconds.toFixed(1), p.mb.toFixed(1), `${p.mb >= start ? '+' : ''}${(((p.mb - start) / start) * 100).toFixed(1)}%`])));
    const levelled = growth < LEVEL_OFF_GROWTH;
    console.log(
      `\nRSS: start ${start.toFixed(0)} MB, at ${half.label} ${half.mb.toFixed(0)} MB, end ${end.toFixed(0)} MB, peak ${peak.toFixed(0)} MB; ` +
        `last half ${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}% -> ${levelled ? 'levelled off' : `STILL GROWING (>= ${LEVEL_OFF_GROWTH * 100}%)`}`,
    );

    const errors = [...outcomes.entries()].filter(([o]) => o !== 'ok').reduce((n, [, c]) => n + c, 0);
    console.log(`Verdict: ${errors === 0 && levelled ? 'PASS' : 'FAIL'} (${errors} errors, RSS ${levelled ? 'levelled off' : 'still growing'})`);
    if (errors > 0 || !levelled) process.exitCode = 1;
  } finally {
    agent.destroy();
    await stopServer(server);
  }
}

main().catch((e: unknown) => {
  console.error(`soak failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
