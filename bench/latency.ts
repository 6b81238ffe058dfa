/**
 * Latency and memory of the real server, end to end over loopback:
 *   npm run bench:latency    (builds, then runs this; `npm run bench` is now bench/throughput.ts)
 * Starts dist/src/server.js as a child process on a free port, waits for readiness, then
 *  1. sends SEQUENTIAL (1,000) requests one after another and prints p50/p90/p99 latency;
 *  2. sends TOTAL (10,000) requests at concurrency 4 and prints the server's RSS before, during
 *     and after, to show that memory levels off (tensors are disposed).
 * Env: BENCH_SEQUENTIAL, BENCH_TOTAL, BENCH_CONCURRENCY. Numbers are printed, never asserted.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/paths';
import { freePort } from './lib/children';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 1000);
const TOTAL = Number(process.env.BENCH_TOTAL ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const DIGIT = readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'mnist', '7.png'));

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function classify(base: string): Promise<number> {
  const form = new FormData();
  form.append('file', new Blob([DIGIT], { type: 'image/png' }), '7.png');
  const started = process.hrtime.bigint();
  const res = await fetch(`${base}/mnist/classify`, { method: 'POST', body: form });
  const body = (await res.json()) as { digit?: number };
  if (res.status !== 200 || body.digit !== 7) throw new Error(`unexpected answer ${res.status} ${JSON.stringify(body)}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function waitReady(base: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/v2/health/ready`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become ready in 60 s');
}

async function main(): Promise<void> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'server.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitReady(base);
    const pid = server.pid as number;
    const rssStart = rssMb(pid);

    for (let i = 0; i < 20; i++) await classify(base); // warm the connection and JIT
    const latencies: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) latencies.push(await classify(base));
    latencies.sort((a, b) => a - b);
    console.log(`sequential: ${SEQUENTIAL} requests  p50 ${percentile(latencies, 50).toFixed(2)} ms  p90 ${percentile(latencies, 90).toFixed(2)} ms  p99 ${percentile(latencies, 99).toFixed(2)} ms`);

    const samples: string[] = [`start ${rssStart.toFixed(0)}`];
    let sent = 0;
    let done = 0;
    const every = Math.max(1, Math.floor(TOTAL / 5));
    const started = Date.now();
    const worker = async () => {
      while (sent < TOTAL) {
        sent++;
        await classify(base);
        done++;
        if (done % every === 0) samples.push(`${done} ${rssMb(pid).toFixed(0)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;
    console.log(`load: ${TOTAL} requests at concurrency ${CONCURRENCY} in ${seconds.toFixed(1)} s (${(TOTAL / seconds).toFixed(0)} req/s)`);
    console.log(`server RSS (MB) after N requests: ${samples.join(' | ')}`);
  } finally {
    server.kill('SIGTERM');
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
