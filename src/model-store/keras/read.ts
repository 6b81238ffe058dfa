import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PROJECT_ROOT } from '../../paths';
import { KerasRefused } from './config';
import type { KerasContent, ReadOptions } from './keras-file';
import type { ReadReply, ReadRequest } from './read-thread';

const THREAD_FILE = path.join(__dirname, `read-thread${path.extname(__filename)}`);

/**
 * How long the reading thread outlives its last read. Reads come in bursts (a reconcile loads
 * several versions; the pool reads metadata, then each worker the weights), and a thread costs
 * ~0.1 s to start compiled (seconds under ts-node); once idle, it ends and its WebAssembly
 * memory (h5wasm's heap only ever grows) goes with it.
 */
const LINGER_MS = 2000;

interface Reader {
  thread: Worker;
  pending: Map<number, { resolve(content: KerasContent): void; reject(error: Error): void }>;
  idle?: NodeJS.Timeout;
}

let reader: Reader | undefined;
let nextId = 1;

function startReader(): Reader {
  const options = { stderr: true, env: { ...process.env } };
  const thread = THREAD_FILE.endsWith('.ts')
    ? // Running from sources (tests): the thread compiles its TypeScript as it loads it.
      new Worker(
        `require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(path.join(PROJECT_ROOT, 'tsconfig.json'))} }); require(${JSON.stringify(THREAD_FILE)});`,
        { ...options, eval: true },
      )
    : new Worker(THREAD_FILE, options);
  const started: Reader = { thread, pending: new Map() };
  thread.stderr.resume(); // the thread writes nothing worth keeping there (HDF5's stack is caught inside)
  thread.on('message', ({ id, reply }: { id: number; reply: ReadReply }) => {
    const waiting = started.pending.get(id);
    started.pending.delete(id);
    if (!waiting) return;
    if ('content' in reply) waiting.resolve(reply.content);
    else waiting.reject(reply.refused ? new KerasRefused(reply.error) : new Error(reply.error));
    if (started.pending.size === 0) idle(started);
  });
  const fail = (error: Error) => {
    if (reader === started) reader = undefined;
    for (const { reject } of started.pending.values()) reject(error);
    started.pending.clear();
  };
  // A WebAssembly abort (a file corrupt in a way HDF5 does not catch) ends the thread: its reads fail, the next starts a new one.
  thread.on('error', (e) => fail(new KerasRefused(`reading it failed (${e.message}); the file is probably corrupt`)));
  thread.on('exit', (code) => fail(new Error(`the Keras reading thread stopped (exit ${code}) without an answer`)));
  return started;
}

function idle(r: Reader): void {
  r.thread.unref();
  r.idle = setTimeout(() => {
    if (reader === r) reader = undefined;
    void r.thread.terminate();
  }, LINGER_MS);
  r.idle.unref();
}

/**
 * Reads a Keras file in the reading thread (read-thread.ts) and returns its content. A file TF.js
 * cannot run, or that is not a Keras model, rejects with KerasRefused (message: the reason and
 * what to do; the caller names the file).
 */
export function readKeras(file: string, options: ReadOptions): Promise<KerasContent> {
  reader ??= startReader();
  const r = reader;
  if (r.idle) clearTimeout(r.idle);
  r.idle = undefined;
  r.thread.ref();
  const id = nextId++;
  return new Promise<KerasContent>((resolve, reject) => {
    r.pending.set(id, { resolve, reject });
    r.thread.postMessage({ id, request: { file: path.resolve(file), options } satisfies ReadRequest });
  });
}
