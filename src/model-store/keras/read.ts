import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PROJECT_ROOT } from '../../paths';
import { KerasRefused } from './config';
import type { KerasContent, ReadOptions } from './keras-file';
import type { ReadReply, ReadRequest } from './read-thread';

const THREAD_FILE = path.join(__dirname, `read-thread${path.extname(__filename)}`);

/** Last bytes of the thread's stderr kept for an unexpected failure's message (HDF5 prints its error stack there). */
const STDERR_TAIL = 2000;

/**
 * Reads a Keras file in a short-lived thread (read-thread.ts) and returns its content. A file
 * TF.js cannot run, or that is not a Keras model, rejects with KerasRefused (message: the reason
 * and what to do; the caller names the file).
 */
export function readKeras(file: string, options: ReadOptions): Promise<KerasContent> {
  const request: ReadRequest = { file: path.resolve(file), options };
  // stderr: true keeps HDF5's diagnostics off the server's log; the tail is kept for errors.
  const workerOptions = { workerData: request, stderr: true, env: { ...process.env } };
  const thread = THREAD_FILE.endsWith('.ts')
    ? // Running from sources (tests): the thread compiles its TypeScript as it loads it.
      new Worker(
        `require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(path.join(PROJECT_ROOT, 'tsconfig.json'))} }); require(${JSON.stringify(THREAD_FILE)});`,
        { ...workerOptions, eval: true },
      )
    : new Worker(THREAD_FILE, workerOptions);
  let stderr = '';
  thread.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  return new Promise<KerasContent>((resolve, reject) => {
    let settled = false;
    thread.once('message', (reply: ReadReply) => {
      settled = true;
      if ('content' in reply) resolve(reply.content);
      else reject(reply.refused ? new KerasRefused(reply.error) : new Error(reply.error));
      void thread.terminate();
    });
    thread.once('error', (e) => {
      if (settled) return;
      settled = true;
      reject(new KerasRefused(`reading it failed (${e.message}); the file is probably corrupt${stderr ? `: ${stderr.trim().split('\n').slice(-2).join(' ')}` : ''}`));
    });
    thread.once('exit', (code) => {
      if (settled) return;
      settled = true;
      reject(new Error(`the Keras reading thread stopped (exit ${code}) without an answer`));
    });
  });
}
