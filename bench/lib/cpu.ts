/**
 * Where the CPU went during a run, in % of one core (200% = both cores of a 2-core machine):
 * the server's process tree, the client (autocannon in this process, or a wrk child), everything
 * else on the machine, and time stolen by the hypervisor. The bench shares the machine with whatever else
 * runs there; "other" and "steal" say how much a run's numbers were disturbed, and a server
 * pinned at 100% (one core) says a single-threaded server was CPU-bound.
 * Linux /proc only; USER_HZ is 100 on every mainstream Linux build.
 */
import { readFileSync } from 'node:fs';
import { tree } from './rss';

const USER_HZ = 100;

function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After `(comm)`: state is field 3, so utime (14) and stime (15) are at indexes 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return 0;
  }
}

/** CPU seconds of this process's children that have exited and been reaped (cutime + cstime): the wrk client. */
function reapedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / USER_HZ;
}

function treeCpuSeconds(root: number): number {
  return tree(root).reduce((s, pid) => s + processCpuSeconds(pid), 0);
}

/** Machine-wide busy and stolen seconds (all cores) from the first line of /proc/stat. */
function machineSeconds(): { busy: number; steal: number } {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { busy: ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / USER_HZ, steal: (steal ?? 0) / USER_HZ };
}

export interface CpuShares {
  /** CPU seconds the server's process tree used during the window. */
  serverSeconds: number;
  serverPct: number;
  clientPct: number;
  otherPct: number;
  stealPct: number;
}

/** Starts accounting; `stop()` returns the shares since then. */
export function cpuWindow(serverPid: number): { stop(): CpuShares } {
  const t0 = process.hrtime.bigint();
  const server0 = treeCpuSeconds(serverPid);
  const client0 = process.cpuUsage();
  const reaped0 = reapedChildrenCpuSeconds();
  const machine0 = machineSeconds();
  return {
    stop() {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const server = treeCpuSeconds(serverPid) - server0;
      const c = process.cpuUsage(client0);
      // The client: this process (autocannon, the gRPC client) plus a wrk child that has exited.
      const client = (c.user + c.system) / 1e6 + reapedChildrenCpuSeconds() - reaped0;
      const m = machineSeconds();
      const pct = (s: number) => (100 * s) / wall;
      return {
        serverSeconds: server,
        serverPct: pct(server),
        clientPct: pct(client),
        otherPct: pct(Math.max(0, m.busy - machine0.busy - server - client)),
        stealPct: pct(m.steal - machine0.steal),
      };
    },
  };
}
