/**
 * Resident memory of a server and everything it forked, read from /proc (Linux only).
 * The sum over the process tree is what a pool of worker *processes* costs; worker *threads*
 * are already inside the leader's VmRSS. Summing RSS counts pages shared between processes
 * (code, the copy-on-write heap after fork) once per process, so it errs high for pools.
 */
import { readdirSync, readFileSync } from 'node:fs';

function readRssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0; // exited between listing and reading
  }
}

/** The parent of every process: field 4 of /proc/<pid>/stat, read after the `(comm)` field, which may hold spaces. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(Number(entry), ppid);
    } catch {
      /* exited meanwhile */
    }
  }
  return map;
}

/** `root` and its descendants. */
export function tree(root: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const [pid, ppid] of parents()) byParent.set(ppid, [...(byParent.get(ppid) ?? []), pid]);
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop() as number;
    out.push(pid);
    todo.push(...(byParent.get(pid) ?? []));
  }
  return out;
}

export function treeRssMb(root: number): number {
  return tree(root).reduce((kb, pid) => kb + readRssKb(pid), 0) / 1024;
}

/** Samples `treeRssMb(pid)` every `intervalMs` until stopped; returns the peak. */
export function sampleRss(pid: number, intervalMs = 100): { stop(): number } {
  let peak = treeRssMb(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRssMb(pid));
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, treeRssMb(pid));
    },
  };
}
