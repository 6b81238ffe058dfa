/**
 * One gRPC load run: TF Serving's PredictionService/Predict with the PNG as a DT_STRING tensor
 * (the same work as the REST run's upload: bytes through the model's preprocessing), `connections`
 * calls in flight at all times on one channel (one HTTP/2 connection, as a gRPC client uses),
 * for `seconds`, while the server's RSS and CPU are sampled. Same result shape as load.ts; the
 * statuses are keyed by gRPC status name.
 */
import { type Client, credentials, loadPackageDefinition, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { LOADER_OPTIONS, PROTO_FILES } from '../../src/grpc/protos';
import { cpuWindow } from './cpu';
import type { LoadResult } from './load';
import { sampleRss } from './rss';

export interface GrpcLoadOptions {
  port: number;
  connections: number;
  seconds: number;
  png: Buffer;
  expectDigit: number;
  timeoutSeconds: number;
  pid: number;
}

type Predict = (request: object, metadata: Metadata, options: { deadline: number }, callback: (error: ServiceError | null, response: { outputs: Record<string, { float_val: number[] }> }) => void) => void;

function predictionClient(port: number): Client & { Predict: Predict } {
  const root = loadPackageDefinition(loadSync(PROTO_FILES, LOADER_OPTIONS)) as unknown as {
    tensorflow: { serving: { PredictionService: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client & { Predict: Predict } } };
  };
  return new root.tensorflow.serving.PredictionService(`127.0.0.1:${port}`, credentials.createInsecure());
}

const argmax = (values: readonly number[]): number => values.indexOf(Math.max(...values));

export async function runGrpcLoad(o: GrpcLoadOptions): Promise<LoadResult> {
  const client = predictionClient(o.port);
  const request = { model_spec: { name: 'mnist' }, inputs: { image: { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: 1 }] }, string_val: [o.png] } } };
  const predict = (): Promise<{ code: string; ms: number; right: boolean }> =>
    new Promise((resolve) => {
      const started = performance.now();
      client.Predict(request, new Metadata(), { deadline: Date.now() + o.timeoutSeconds * 1000 }, (error, response) => {
        const ms = performance.now() - started;
        if (error) resolve({ code: status[error.code] ?? String(error.code), ms, right: false });
        else resolve({ code: 'OK', ms, right: argmax(response.outputs.probs?.float_val ?? []) === o.expectDigit });
      });
    });
  // Connect before the clock starts, as autocannon's connections are opened first.
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())));

  const okLatencies: number[] = [];
  const statuses: Record<string, number> = {};
  let wrong = 0;
  const rss = sampleRss(o.pid, 100);
  const cpu = cpuWindow(o.pid);
  const started = performance.now();
  const end = started + o.seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const r = await predict();
      statuses[r.code] = (statuses[r.code] ?? 0) + 1;
      if (r.code === 'OK') {
        if (r.right) okLatencies.push(r.ms);
        else wrong++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  const duration = (performance.now() - started) / 1000;
  const cpuShares = cpu.stop();
  const peakRssMb = rss.stop();
  client.close();

  const sorted = Float64Array.from(okLatencies).sort();
  const percentile = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
  const ok = okLatencies.length;
  const timeouts = statuses.DEADLINE_EXCEEDED ?? 0;
  const failed = Object.entries(statuses).reduce((n, [code, count]) => (code === 'OK' ? n : n + count), 0);
  return {
    connections: o.connections,
    seconds: duration,
    ok,
    reqPerSec: ok / duration,
    p50: percentile(50),
    p99: percentile(99),
    statuses,
    non2xx: failed - timeouts,
    wrong,
    socketErrors: 0,
    timeouts,
    errors: failed + wrong,
    peakRssMb,
    cpu: cpuShares,
    serverCpuMsPerReq: ok > 0 ? (cpuShares.serverSeconds * 1000) / ok : NaN,
  };
}
