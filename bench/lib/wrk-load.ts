/**
 * One load run driven by wrk (C, epoll) instead of autocannon: same options and result as
 * runLoad (./load.ts). wrk runs as a child process, so the client costs less CPU than
 * autocannon inside this process, and it reconnects after `Connection: close` (gunicorn's sync
 * workers close every connection; autocannon's latencies and timeouts are wrong for them).
 * Latency percentiles are wrk's, over every response (microsecond resolution); a run with
 * errors says so in its row. The counting is in wrk-post.lua.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { cpuWindow } from './cpu';
import { type LoadOptions, type LoadResult, loadResult } from './load';
import { sampleRss } from './rss';

const SCRIPT = path.join(PROJECT_ROOT, 'bench', 'lib', 'wrk-post.lua');

interface WrkSummary {
  durationUs: number;
  statuses: Record<string, number>;
  wrong: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  p50Us: number;
  p99Us: number;
}

/** The wrk on PATH, if any (Debian: apt-get install wrk). */
export function wrkAvailable(): boolean {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && /wrk/.test(`${probe.stdout}${probe.stderr}`);
}

function runWrk(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}: ${err.trim() || out.trim()}`))));
  });
}

export async function runWrkLoad(o: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'specserve-wrk-'));
  try {
    const bodyFile = path.join(dir, 'body');
    writeFileSync(bodyFile, o.body);
    const env = {
      ...process.env,
      WRK_BODY_FILE: bodyFile,
      WRK_CONTENT_TYPE: o.contentType,
      WRK_EXPECT_DIGIT: o.expectDigit === undefined ? '' : String(o.expectDigit),
    };
    // Two wrk threads at most: this machine class has two cores, and the server needs them.
    const threads = Math.min(2, o.connections);
    const args = ['-t', String(threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', `${o.timeoutSeconds}s`, '-s', SCRIPT, o.url];
    const rss = sampleRss(o.pid, 100);
    const cpu = cpuWindow(o.pid);
    const out = await runWrk(args, env).catch((err: unknown) => {
      rss.stop(); // its timer would keep the bench alive
      throw err;
    });
    const cpuShares = cpu.stop();
    const peakRssMb = rss.stop();
    const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
    if (!line) throw new Error(`wrk printed no summary:\n${out}`);
    const s = JSON.parse(line.slice('WRKJSON '.length)) as WrkSummary;
    return loadResult({
      connections: o.connections,
      seconds: s.durationUs / 1e6,
      p50: s.p50Us / 1000,
      p99: s.p99Us / 1000,
      statuses: s.statuses,
      wrong: s.wrong,
      socketErrors: s.connect + s.read + s.write,
      timeouts: s.timeout,
      peakRssMb,
      cpu: cpuShares,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
