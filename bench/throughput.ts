/**
 * Throughput of specserve against two yardsticks, over loopback: `npm run bench`.
 *
 *   specserve  node dist/src/server.js, env passed through (SERVING_THREADS, WORKERS, MAX_QUEUE, TFJS_BACKEND...)
 *   grpc       the same server driven over gRPC: TF Serving's Predict with the PNG as a DT_STRING
 *              tensor (bench/lib/grpc-load.ts), beside the REST upload of the same bytes
 *   unbatched  the same server with mnist's max_batch_size 1 (one predict per input)
 *   naive      bench/baselines/naive-server.ts: express + multer + one predict per request
 *   ceiling    bench/baselines/ceiling-server.ts: node:http answering a constant (HTTP ceiling)
 *   python     bench/baselines/python-peer/server.py: the seed-style Python server (Flask +
 *              gunicorn, 2 sync workers, PyTorch 1 thread each, the same CNN and weights);
 *              skipped with a line saying so when Debian's python3-torch, python3-flask,
 *              python3-pil, python3-numpy or gunicorn are missing. Not run in CI.
 *
 * First the compute ceiling (bench/compute-ceiling.ts) runs in a child process while the machine
 * is otherwise idle. Then each server is started as a child process on a free port, awaited on
 * GET /v2/health/ready, warmed up, and driven by wrk (else autocannon) POSTing test/fixtures/mnist/7.png as
 * multipart field `file` at each concurrency for BENCH_SECONDS, while the RSS of its process
 * tree is sampled every 100 ms. Every 2xx body of the real servers must say digit 7; any other
 * answer is an error. Finally a fresh specserve is overloaded (c=512) to see how it sheds load.
 * Builds nothing: the npm script builds first. Numbers are printed, never asserted.
 *
 * Note: the client runs on the same cores as the server. On a 2-core machine it takes a good part
 * of one core (wrk less than autocannon), which caps every server, the ceiling most of all.
 *
 * Env: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONCURRENCY (1,16,64),
 * BENCH_ROUNDS (1: every server once; N: N interleaved rounds, ratios are the median over rounds),
 * BENCH_SERVERS (specserve,grpc,unbatched,naive,ceiling,python; also threads, serving), BENCH_OVERLOAD_CONNECTIONS (512; 0 skips),
 * BENCH_OVERLOAD_SECONDS (= BENCH_SECONDS), BENCH_OVERLOAD_MAX_QUEUE (64), BENCH_TIMEOUT_SECONDS (10, per request),
 * BENCH_COMPUTE_SECONDS (2 per batch size; 0 skips the compute ceiling), SERVING_THREADS (cores, for the
 * compute ceiling and passed to specserve), BENCH_OUT (write the results as JSON there),
 * BENCH_CLIENT (wrk when installed, else autocannon), BENCH_START_TIMEOUT_SECONDS (120), BENCH_NODE_ARGS (node flags for the servers, e.g. --cpu-prof --cpu-prof-dir=DIR).
 * When MODEL_STORE is unset, specserve gets a temporary store holding only mnist (a link to
 * model-store/mnist), so that it loads exactly the naive server's model and RSS compares fairly.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MODEL_STORE, PROJECT_ROOT } from '../src/paths';
import { type ComputeCeiling, computeCeilingInChild, defaultComputeOptions, formatComputeCeiling } from './compute-ceiling';
import { freePort, installExitHooks, killAll, type RunningServer, startServer } from './lib/children';
import { envIntegers, envNumber, sleep } from './lib/env';
import { runGrpcLoad } from './lib/grpc-load';
import { runLoad } from './lib/load';
import { runWrkLoad, wrkAvailable } from './lib/wrk-load';
import { systemPython } from './lib/python';
import { multipartFile } from '../test/support/multipart';
import { formatMachine, formatOverload, formatRatios, formatTable, machineFacts, type Row, summariseRatios } from './lib/report';

const SECONDS = envNumber('BENCH_SECONDS', 10, 1);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 2, 0);
const CONCURRENCY = envIntegers('BENCH_CONCURRENCY', [1, 16, 64]);
/** Every server runs once per round, rounds one after the other, so each round's ratios compare runs minutes apart at most. */
const ROUNDS = envNumber('BENCH_ROUNDS', 1, 1);
const OVERLOAD_CONNECTIONS = envNumber('BENCH_OVERLOAD_CONNECTIONS', 512, 0);
const OVERLOAD_SECONDS = envNumber('BENCH_OVERLOAD_SECONDS', SECONDS, 1);
/** The overload run's max_queue: small, so the server must shed load with 503 rather than queue it. */
const OVERLOAD_MAX_QUEUE = envNumber('BENCH_OVERLOAD_MAX_QUEUE', 64, 1);
const TIMEOUT_SECONDS = envNumber('BENCH_TIMEOUT_SECONDS', 10, 1);
/**
 * The HTTP load client: wrk when installed (a C client in its own process; it handles the Python
 * peer's `Connection: close`), else autocannon in this process. BENCH_CLIENT forces one.
 */
const CLIENT = chooseClient(process.env.BENCH_CLIENT?.trim());
const START_TIMEOUT_MS = envNumber('BENCH_START_TIMEOUT_SECONDS', 120, 1) * 1000;
/** Node flags for every server, space-separated: profile with BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const SERVERS = (process.env.BENCH_SERVERS ?? 'specserve,grpc,unbatched,naive,ceiling,python').split(',').map((s) => s.trim());
/** Env that shapes specserve's engine, echoed with the results so a run says what it measured. */
const SERVER_ENV = /^(SERVING_THREADS|WORKERS|INTRA_OP_THREADS|MAX_|BATCH|QUEUE|REQUEST_TIMEOUT_MS$|TFJS_BACKEND$|MODEL_STORE$)/;
const PYTHON_PEER_DIR = path.join(PROJECT_ROOT, 'bench', 'baselines', 'python-peer');

function chooseClient(forced: string | undefined): 'wrk' | 'autocannon' {
  if (forced === 'autocannon') return 'autocannon';
  if (forced === 'wrk' || forced === undefined || forced === '') {
    if (wrkAvailable()) return 'wrk';
    if (forced === 'wrk') throw new Error('BENCH_CLIENT=wrk but wrk is not on PATH (apt-get install wrk)');
    console.error('wrk is not installed (apt-get install wrk): autocannon drives the HTTP servers, in this process; the Python peer closes every connection and autocannon mis-times that');
    return 'autocannon';
  }
  throw new Error(`BENCH_CLIENT: expected wrk or autocannon, got ${forced}`);
}

/** Why the Python peer cannot run here (a missing Debian package), or undefined when it can. */
function pythonPeerMissing(): string | undefined {
  const probe = spawnSync(systemPython(), ['-c', 'import torch, flask, PIL, numpy'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `python3 with torch, flask, PIL and numpy is not installed (apt-get install python3-torch python3-flask python3-pil python3-numpy gunicorn): ${(probe.error?.message ?? probe.stderr).trim().split('\n').at(-1)}`;
  const gunicorn = spawnSync(systemPython(), ['-m', 'gunicorn', '--version'], { encoding: 'utf8' });
  if (gunicorn.error || gunicorn.status !== 0) return 'gunicorn is not installed (apt-get install gunicorn)';
  return undefined;
}

const EXPECTED_DIGIT = 7;
const PNG = readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'mnist', `${EXPECTED_DIGIT}.png`));
const UPLOAD = multipartFile('file', `${EXPECTED_DIGIT}.png`, 'image/png', PNG);

interface Target {
  name: string;
  script: string;
  /** Real servers must answer the digit; the ceiling's constant answer is not checked. */
  checkDigit: boolean;
  /** specserve only: the mnist config.yaml its store gets (none: the shipped defaults). */
  modelConfig?: string;
  /** Driven over gRPC (Predict) instead of REST uploads. */
  grpc?: boolean;
  /** A program instead of node + script; `{port}` is replaced by the port. */
  command?: string[];
  /** Env of this server over the bench's (the engine-shape alternatives). */
  env?: Record<string, string>;
}

function targets(): Target[] {
  const all: Target[] = [
    { name: 'specserve', script: path.join(PROJECT_ROOT, 'dist', 'src', 'server.js'), checkDigit: true },
    { name: 'grpc', script: path.join(PROJECT_ROOT, 'dist', 'src', 'server.js'), checkDigit: true, grpc: true },
    // The same engine with batching off (one input per predict): what batching costs a lone
    // request (c=1) and what it buys under load (c=64).
    { name: 'unbatched', script: path.join(PROJECT_ROOT, 'dist', 'src', 'server.js'), checkDigit: true, modelConfig: 'dynamic_batching: { max_batch_size: 1 }' },
    // The other way to spend the cores on ONNX Runtime: one worker whose batches use every core
    // (INTRA_OP_THREADS) instead of one worker per core with one thread each (the default).
    // Not in the default list: BENCH_SERVERS=specserve,threads compares the two side by side.
    { name: 'threads', script: path.join(PROJECT_ROOT, 'dist', 'src', 'server.js'), checkDigit: true, env: { WORKERS: '1', INTRA_OP_THREADS: String(os.availableParallelism()) } },
    // One serving thread per core, each answering HTTP and running the model inline (WORKERS=0),
    // with no hand-off between threads. Not in the default list: BENCH_SERVERS=specserve,serving.
    { name: 'serving', script: path.join(PROJECT_ROOT, 'dist', 'src', 'server.js'), checkDigit: true, env: { SERVING_THREADS: String(os.availableParallelism()), WORKERS: '0' } },
    { name: 'naive', script: path.join(__dirname, 'baselines', 'naive-server.js'), checkDigit: true },
    { name: 'ceiling', script: path.join(__dirname, 'baselines', 'ceiling-server.js'), checkDigit: false },
    {
      name: 'python',
      script: path.join(PYTHON_PEER_DIR, 'server.py'),
      checkDigit: true,
      // --preload: PyTorch and the model load before the workers fork, so readiness means both
      // workers can answer (without it one worker was still importing torch for tens of seconds
      // on a busy machine while the bench's clock ran).
      command: [systemPython(), '-m', 'gunicorn', '--preload', '--workers', '2', '--worker-class', 'sync', '--bind', '127.0.0.1:{port}', '--chdir', PYTHON_PEER_DIR, '--log-level', 'warning', 'server:app'],
    },
  ];
  const unknown = SERVERS.filter((s) => !all.some((t) => t.name === s));
  if (unknown.length > 0) throw new Error(`BENCH_SERVERS: unknown ${unknown.join(', ')}; expected some of ${all.map((t) => t.name).join(', ')}`);
  const chosen = all.filter((t) => SERVERS.includes(t.name));
  const missing = chosen.some((t) => t.name === 'python') ? pythonPeerMissing() : undefined;
  if (missing) console.error(`python: SKIPPED, the Python peer cannot run here: ${missing}`);
  return missing ? chosen.filter((t) => t.name !== 'python') : chosen;
}

function serverEnv(store: string): NodeJS.ProcessEnv {
  // Quiet by default: per-request warnings under overload would cost the server time.
  // One BLAS/OpenMP thread per Python worker, as the seed ran it.
  return { ...process.env, MODEL_STORE: store, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
}

/** The gRPC port of each running server driven over gRPC. */
const grpcPorts = new Map<RunningServer, number>();

async function start(target: Target, store: string): Promise<RunningServer> {
  const grpcPort = target.grpc ? await freePort() : 0;
  const env = { ...serverEnv(store), ...target.env, GRPC_PORT: String(grpcPort) };
  const server = await startServer({ name: target.name, script: target.script, command: target.command, nodeArgs: NODE_ARGS, env, readyPath: '/v2/health/ready', startTimeoutMs: START_TIMEOUT_MS });
  if (target.grpc) grpcPorts.set(server, grpcPort);
  return server;
}

function load(server: RunningServer, target: Target, connections: number, seconds: number) {
  const grpcPort = grpcPorts.get(server);
  if (grpcPort !== undefined) {
    return runGrpcLoad({ port: grpcPort, connections, seconds, png: PNG, expectDigit: EXPECTED_DIGIT, timeoutSeconds: TIMEOUT_SECONDS, pid: server.pid });
  }
  return (CLIENT === 'wrk' ? runWrkLoad : runLoad)({
    url: `${server.base}/mnist/classify`,
    connections,
    seconds,
    body: UPLOAD.body,
    contentType: UPLOAD.contentType,
    expectDigit: target.checkDigit ? EXPECTED_DIGIT : undefined,
    timeoutSeconds: TIMEOUT_SECONDS,
    pid: server.pid,
  });
}

async function warmUp(server: RunningServer, target: Target): Promise<void> {
  if (WARMUP_SECONDS > 0) await load(server, target, 16, WARMUP_SECONDS);
}

const progress = (r: Row) =>
  console.error(`  ${r.server} c=${r.connections}: ${r.reqPerSec.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}, peak RSS ${r.peakRssMb.toFixed(0)} MB`);

/**
 * The store specserve serves: MODEL_STORE if set (and no `modelConfig`), else a temporary one
 * linking only mnist's version 1, with `modelConfig` as its config.yaml when given (the overload
 * run's small queue, the unbatched run).
 */
function modelStore(modelConfig?: string): { store: string; cleanup(): void } {
  if (process.env.MODEL_STORE?.trim() && modelConfig === undefined) return { store: path.resolve(process.env.MODEL_STORE.trim()), cleanup: () => undefined };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'specserve-bench-store-'));
  mkdirSync(path.join(dir, 'mnist'));
  symlinkSync(path.join(DEFAULT_MODEL_STORE, 'mnist', '1'), path.join(dir, 'mnist', '1'), 'dir');
  if (modelConfig !== undefined) writeFileSync(path.join(dir, 'mnist', 'config.yaml'), `${modelConfig}\n`);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanup); // also after Ctrl-C, which exits without unwinding main()
  return { store: dir, cleanup };
}

async function main(): Promise<void> {
  installExitHooks();
  const list = targets();
  const { store, cleanup } = modelStore();
  // Taken first: the load average before the bench adds its own.
  const machine = machineFacts('unknown', Object.keys(process.env).filter((k) => SERVER_ENV.test(k)));
  try {
    const computeOptions = defaultComputeOptions();
    let compute: ComputeCeiling | undefined;
    if (computeOptions.seconds > 0) {
      console.error('measuring the compute ceiling...');
      compute = await computeCeilingInChild(computeOptions);
    }

    const rows: Row[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of list) {
        console.error(`${target.name}: starting${ROUNDS > 1 ? ` (round ${round} of ${ROUNDS})` : ''}`);
        const own = target.modelConfig === undefined ? undefined : modelStore(target.modelConfig);
        const server = await start(target, own?.store ?? store);
        try {
          await warmUp(server, target);
          for (const c of CONCURRENCY) {
            await sleep(500); // let the previous run's in-flight requests drain
            const row = { server: target.name, round, ...(await load(server, target, c, SECONDS)) };
            progress(row);
            rows.push(row);
          }
        } finally {
          await server.stop();
          own?.cleanup();
        }
      }
    }

    let overload: Row | undefined;
    const specserve = list.find((t) => t.name === 'specserve');
    if (specserve && OVERLOAD_CONNECTIONS > 0) {
      console.error(`specserve: overload at c=${OVERLOAD_CONNECTIONS} on a fresh server with max_queue ${OVERLOAD_MAX_QUEUE}`);
      const small = modelStore(`dynamic_batching: { max_queue: ${OVERLOAD_MAX_QUEUE} }`);
      const server = await start(specserve, small.store);
      try {
        await warmUp(server, specserve);
        await sleep(500);
        overload = { server: 'specserve', round: 1, ...(await load(server, specserve, OVERLOAD_CONNECTIONS, OVERLOAD_SECONDS)) };
      } finally {
        await server.stop();
        small.cleanup();
      }
    }

    machine.backend = compute?.backend ?? 'unknown (BENCH_COMPUTE_SECONDS=0)';
    const ratioValues = summariseRatios(rows, compute);
    console.log(formatMachine(machine));
    console.log(`bench: ${SECONDS} s per run after ${WARMUP_SECONDS} s warm-up; HTTP client ${CLIENT}; ${PNG.length}-byte PNG, multipart body ${UPLOAD.body.length} bytes; specserve store ${store}`);
    if (compute) console.log(`\n${formatComputeCeiling(compute)}`);
    console.log(`\n${formatTable(rows)}`);
    console.log(
      [
        'req/s: 2xx with the right digit per second. errors: non-2xx + wrong answers + socket errors + timeouts. RSS: server process tree.',
        'srv cpu ms/req: server CPU time per good answer. cpu%: of one core, server / this client / everything else (+ steal);',
        'a large "other" means the machine was shared during the run and req/s and latencies are pessimistic.',
      ].join('\n'),
    );
    console.log(`\n${formatRatios(ratioValues)}`);
    if (overload) console.log(`\n${formatOverload(overload)}`);

    if (process.env.BENCH_OUT) {
      const out = { machine, settings: { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, concurrency: CONCURRENCY, rounds: ROUNDS, overloadConnections: OVERLOAD_CONNECTIONS }, compute, rows, ratios: ratioValues, overload };
      writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(out, null, 2)}\n`);
      console.error(`results written to ${process.env.BENCH_OUT}`);
    }
  } finally {
    await killAll();
    cleanup();
  }
}

main().catch(async (e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  await killAll();
  process.exit(1);
});
