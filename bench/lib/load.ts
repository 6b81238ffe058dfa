/**
 * One load run: autocannon (programmatic) POSTs the same multipart body on `connections`
 * keep-alive connections for `seconds`, while the server's RSS is sampled.
 *
 * Latency percentiles are computed here from autocannon's per-response times (float ms) rather
 * than taken from its histogram, which records whole milliseconds: at c=1 a request takes a few
 * ms, and a 1 ms resolution would make the c=1 p50 comparison meaningless.
 */
import autocannon from 'autocannon';
import { type CpuShares, cpuWindow } from './cpu';
import { sampleRss } from './rss';

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  body: Buffer;
  contentType: string;
  /** Check that every 2xx body is JSON whose `digit` is this; a different answer counts as an error. */
  expectDigit?: number;
  timeoutSeconds: number;
  /** Server pid whose process tree's RSS is sampled. */
  pid: number;
}

export interface LoadResult {
  connections: number;
  seconds: number;
  /** 2xx responses with the expected answer. */
  ok: number;
  /** `ok` per second: wrong answers and errors do not count as throughput. */
  reqPerSec: number;
  /** Latency of 2xx responses, ms. */
  p50: number;
  p99: number;
  /** Responses per status code (all of them, including 2xx). */
  statuses: Record<string, number>;
  non2xx: number;
  /** 2xx whose body was not the expected digit. */
  wrong: number;
  /** Connection errors other than timeouts (resets, refused...). */
  socketErrors: number;
  timeouts: number;
  /** non2xx + wrong + socketErrors + timeouts. */
  errors: number;
  peakRssMb: number;
  cpu: CpuShares;
  /**
   * Server CPU ms per good answer. Unlike req/s this barely moves when other processes share the
   * machine, and cores x 1000 / it bounds what the server could do with every core to itself.
   */
  serverCpuMsPerReq: number;
}

/** What every load client measures; `loadResult` derives the rest the same way for all of them. */
export interface LoadCounts {
  connections: number;
  seconds: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  wrong: number;
  socketErrors: number;
  timeouts: number;
  peakRssMb: number;
  cpu: CpuShares;
}

export function loadResult(c: LoadCounts): LoadResult {
  const is2xx = (status: string) => Number(status) >= 200 && Number(status) < 300;
  const entries = Object.entries(c.statuses);
  const total2xx = entries.reduce((n, [s, k]) => (is2xx(s) ? n + k : n), 0);
  const non2xx = entries.reduce((n, [s, k]) => (is2xx(s) ? n : n + k), 0);
  const ok = total2xx - c.wrong;
  return {
    ...c,
    ok,
    reqPerSec: ok / c.seconds,
    non2xx,
    errors: non2xx + c.wrong + c.socketErrors + c.timeouts,
    serverCpuMsPerReq: ok > 0 ? (c.cpu.serverSeconds * 1000) / ok : NaN,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function isExpected(body: string, digit: number): boolean {
  try {
    return (JSON.parse(body) as { digit?: unknown }).digit === digit;
  } catch {
    return false;
  }
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const okLatencies: number[] = [];
  const statuses: Record<string, number> = {};
  let wrong = 0;
  const rss = sampleRss(o.pid, 100);
  const cpu = cpuWindow(o.pid);

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.url,
        method: 'POST',
        connections: o.connections,
        duration: o.seconds,
        timeout: o.timeoutSeconds,
        headers: { 'content-type': o.contentType },
        body: o.body,
        requests: [
          {
            onResponse: (status: number, body: string) => {
              if (o.expectDigit !== undefined && status >= 200 && status < 300 && !isExpected(body, o.expectDigit)) wrong++;
            },
          },
        ],
      },
      (err: unknown, res: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) okLatencies.push(ms);
    });
  });
  const cpuShares = cpu.stop();
  const peakRssMb = rss.stop();

  const sorted = Float64Array.from(okLatencies).sort();
  return loadResult({
    connections: o.connections,
    seconds: result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    statuses,
    wrong,
    socketErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    peakRssMb,
    cpu: cpuShares,
  });
}
