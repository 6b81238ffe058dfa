import path from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { PROJECT_ROOT } from '../paths';

/**
 * Starts the thread whose code is `<name>.js` in `dir` (default: next to this file) in dist, or
 * `<name>.ts` under ts-jest / ts-node (the thread then compiles its TypeScript as it loads it).
 */
export function startThread(name: string, workerData: unknown, resourceLimits?: ResourceLimits, dir = __dirname): Worker {
  const file = path.join(dir, `${name}${path.extname(__filename)}`);
  // This thread's environment as it is now (LOG_LEVEL, LOG_FORMAT, TFJS_BACKEND...): jest, for
  // one, gives each test file its own process.env, which a worker would not see otherwise.
  const options = { workerData, env: { ...process.env }, ...(resourceLimits ? { resourceLimits } : {}) };
  if (file.endsWith('.ts')) {
    const code = `require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(path.join(PROJECT_ROOT, 'tsconfig.json'))} }); require(${JSON.stringify(file)});`;
    return new Worker(code, { ...options, eval: true });
  }
  return new Worker(file, options);
}

/** How long a thread may take to finish its work and free its models when asked to stop. */
const STOP_GRACE_MS = 10_000;

/**
 * Asks a thread to stop with `{ type: 'stop' }` (it finishes what it has, frees its models and
 * ends itself), and terminates it only if it has not ended within STOP_GRACE_MS. terminate()
 * during an ONNX Runtime run or a libvips decode can abort the whole process.
 */
export async function stopThread(thread: Pick<Worker, 'threadId' | 'postMessage' | 'terminate'> & { once(event: 'exit', listener: (code: number) => void): unknown }): Promise<void> {
  if (thread.threadId === -1) return; // already exited
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  thread.postMessage({ type: 'stop' });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') await thread.terminate();
}
