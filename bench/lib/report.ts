/** The printed results: machine facts, the table, the ratios, the overload summary. */
import os from 'node:os';
import { median } from '../../src/images/stats';
import type { ComputeCeiling } from '../compute-ceiling';
import type { LoadResult } from './load';

export interface Row extends LoadResult {
  server: string;
  /** 1-based round (BENCH_ROUNDS): every server runs once per round, so rounds interleave. */
  round: number;
}

export interface MachineFacts {
  cpuModel: string;
  cpus: number;
  /** 1-minute load average when the bench started: anything near or above 0.5 means a shared, busy machine. */
  loadAverage: number;
  node: string;
  date: string;
  backend: string;
  /** Server-shaping env passed through to specserve (SERVING_THREADS, WORKERS, MAX_QUEUE, ...). */
  env: Record<string, string>;
}

export function machineFacts(backend: string, envNames: readonly string[]): MachineFacts {
  const cpus = os.cpus();
  const env: Record<string, string> = {};
  for (const name of envNames) if (process.env[name] !== undefined) env[name] = process.env[name] as string;
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    loadAverage: os.loadavg()[0] ?? NaN,
    node: process.version,
    date: new Date().toISOString(),
    backend,
    env,
  };
}

export function formatMachine(m: MachineFacts): string {
  const env = Object.entries(m.env).map(([k, v]) => `${k}=${v}`).join(' ') || '(none set)';
  return `machine: ${m.cpus} x ${m.cpuModel}, node ${m.node}, tfjs backend ${m.backend}, ${m.date}, load average at start ${m.loadAverage.toFixed(2)}\nserver env: ${env}`;
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

export function formatTable(rows: readonly Row[]): string {
  const head = ['server', 'round', 'conc', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'peak RSS MB', 'srv cpu ms/req', 'cpu% srv/client/other'];
  const sorted = [...rows].sort((a, b) => a.server.localeCompare(b.server) || a.connections - b.connections || a.round - b.round);
  const body = sorted.map((r) => [
    r.server,
    String(r.round),
    String(r.connections),
    fixed(r.reqPerSec, 0),
    fixed(r.p50, 2),
    fixed(r.p99, 2),
    String(r.errors),
    fixed(r.peakRssMb, 0),
    fixed(r.serverCpuMsPerReq, 2),
    `${fixed(r.cpu.serverPct, 0)}/${fixed(r.cpu.clientPct, 0)}/${fixed(r.cpu.otherPct + r.cpu.stealPct, 0)}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export interface Ratios {
  specserveOverNaiveReqPerSecC64?: number;
  specserveP99OverP50C64?: number;
  specserveOverNaiveP50C1?: number;
  /** What batching costs a lone request: specserve / the same server with max_batch_size 1, p50 at c=1. */
  batchedOverUnbatchedP50C1?: number;
  /** What batching buys under load: req/s at c=64, specserve / max_batch_size 1. */
  batchedOverUnbatchedReqPerSecC64?: number;
  specserveOverCeilingReqPerSecC64?: number;
  specserveOverComputeCeilingC64?: number;
  /** The same server over gRPC (Predict, DT_STRING PNG) / over REST (multipart upload): req/s at c=64. */
  grpcOverRestReqPerSecC64?: number;
  /** The same, p50 at c=1. */
  grpcOverRestP50C1?: number;
  /** The Python peer (Flask + gunicorn + PyTorch): targets are >= 2 at c=16 and c=64, <= 1 for p50 at c=1. */
  specserveOverPythonReqPerSecC16?: number;
  specserveOverPythonReqPerSecC64?: number;
  specserveOverPythonP50C1?: number;
}

export function ratios(rows: readonly Row[], compute: ComputeCeiling | undefined): Ratios {
  const at = (server: string, c: number) => rows.find((r) => r.server === server && r.connections === c);
  const div = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
  const s64 = at('specserve', 64);
  return {
    specserveOverNaiveReqPerSecC64: div(s64?.reqPerSec, at('naive', 64)?.reqPerSec),
    specserveP99OverP50C64: div(s64?.p99, s64?.p50),
    specserveOverNaiveP50C1: div(at('specserve', 1)?.p50, at('naive', 1)?.p50),
    batchedOverUnbatchedP50C1: div(at('specserve', 1)?.p50, at('unbatched', 1)?.p50),
    batchedOverUnbatchedReqPerSecC64: div(s64?.reqPerSec, at('unbatched', 64)?.reqPerSec),
    specserveOverCeilingReqPerSecC64: div(s64?.reqPerSec, at('ceiling', 64)?.reqPerSec),
    specserveOverComputeCeilingC64: div(s64?.reqPerSec, compute?.ceiling),
    grpcOverRestReqPerSecC64: div(at('grpc', 64)?.reqPerSec, s64?.reqPerSec),
    grpcOverRestP50C1: div(at('grpc', 1)?.p50, at('specserve', 1)?.p50),
    specserveOverPythonReqPerSecC16: div(at('specserve', 16)?.reqPerSec, at('python', 16)?.reqPerSec),
    specserveOverPythonReqPerSecC64: div(s64?.reqPerSec, at('python', 64)?.reqPerSec),
    specserveOverPythonP50C1: div(at('specserve', 1)?.p50, at('python', 1)?.p50),
  };
}

/** Each ratio over the rounds: its median, and the lowest and highest round. */
export interface RatioSummary {
  median: Ratios;
  min: Ratios;
  max: Ratios;
  rounds: number;
}

/** The ratios of each round (from that round's rows only: side by side in time), summarised. */
export function summariseRatios(rows: readonly Row[], compute: ComputeCeiling | undefined): RatioSummary {
  const rounds = [...new Set(rows.map((r) => r.round))];
  const perRound = rounds.map((n) => ratios(rows.filter((r) => r.round === n), compute));
  const pick = (choose: (values: number[]) => number): Ratios => {
    const out: Ratios = {};
    for (const key of Object.keys(perRound[0] ?? {}) as (keyof Ratios)[]) {
      const values = perRound.map((r) => r[key]).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
      if (values.length > 0) out[key] = choose(values);
    }
    return out;
  };
  return {
    median: pick((v) => median(Float64Array.from(v))),
    min: pick((v) => v[0]!),
    max: pick((v) => v[v.length - 1]!),
    rounds: rounds.length,
  };
}

export function formatRatios({ median: r, min, max, rounds }: RatioSummary): string {
  const range = (key: keyof Ratios) => (rounds > 1 && min[key] !== undefined ? `  (rounds ${min[key]!.toFixed(2)}-${max[key]!.toFixed(2)})` : '');
  const show = (label: string, key: keyof Ratios) => `  ${label.padEnd(46)} ${r[key] === undefined ? '-' : r[key].toFixed(2)}${range(key)}`;
  return [
    rounds > 1 ? `ratios (median of ${rounds} rounds, each from one round's rows):` : 'ratios:',
    show('specserve / naive req/s at c=64', 'specserveOverNaiveReqPerSecC64'),
    show('specserve p99 / p50 at c=64', 'specserveP99OverP50C64'),
    show('specserve / naive p50 at c=1', 'specserveOverNaiveP50C1'),
    show('specserve / python req/s at c=16 (target >= 2)', 'specserveOverPythonReqPerSecC16'),
    show('specserve / python req/s at c=64 (target >= 2)', 'specserveOverPythonReqPerSecC64'),
    show('specserve / python p50 at c=1 (target <= 1)', 'specserveOverPythonP50C1'),
    show('specserve / unbatched p50 at c=1', 'batchedOverUnbatchedP50C1'),
    show('specserve / unbatched req/s at c=64', 'batchedOverUnbatchedReqPerSecC64'),
    show('specserve / HTTP ceiling req/s at c=64', 'specserveOverCeilingReqPerSecC64'),
    show('specserve req/s at c=64 / compute ceiling', 'specserveOverComputeCeilingC64'),
    show('gRPC Predict / REST upload req/s at c=64', 'grpcOverRestReqPerSecC64'),
    show('gRPC Predict / REST upload p50 at c=1', 'grpcOverRestP50C1'),
  ].join('\n');
}

export function formatOverload(r: Row): string {
  const count = (pred: (s: number) => boolean) => Object.entries(r.statuses).reduce((n, [s, c]) => (pred(Number(s)) ? n + c : n), 0);
  const other = Object.entries(r.statuses)
    .filter(([s]) => !(Number(s) >= 200 && Number(s) < 300) && Number(s) !== 503)
    .map(([s, c]) => `${s}: ${c}`)
    .join(', ');
  return [
    `overload: ${r.server} at c=${r.connections} for ${r.seconds.toFixed(1)} s`,
    `  2xx ${count((s) => s >= 200 && s < 300)} (wrong answers ${r.wrong}), 503 ${count((s) => s === 503)}, other statuses ${other || 'none'}`,
    `  socket errors ${r.socketErrors}, timeouts ${r.timeouts}; ok ${fixed(r.reqPerSec, 0)} req/s, 2xx p50 ${fixed(r.p50, 1)} ms, p99 ${fixed(r.p99, 1)} ms; peak RSS ${fixed(r.peakRssMb, 0)} MB`,
    `  cpu%: server ${fixed(r.cpu.serverPct, 0)}, client ${fixed(r.cpu.clientPct, 0)}, other ${fixed(r.cpu.otherPct, 0)}, steal ${fixed(r.cpu.stealPct, 0)}`,
  ].join('\n');
}
