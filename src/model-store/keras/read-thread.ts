import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { KerasRefused } from './config';
import { type KerasContent, type ReadOptions, readKerasContent } from './keras-file';

/**
 * The Keras reading thread (started by read.ts): reads files one at a time and posts each one's
 * content back with the weight buffers transferred. It ends when idle, which frees h5wasm's
 * WebAssembly memory (it only ever grows), and it contains a WebAssembly abort on a corrupt file.
 */
export interface ReadRequest {
  file: string;
  options: ReadOptions;
}

export type ReadReply = { content: KerasContent } | { error: string; refused: boolean };

/**
 * HDF5 prints its error stack to file descriptor 2, and with NODERAWFS that write goes straight
 * to the process's stderr. This thread writes nothing else there: keep it, and quote the
 * innermost HDF5 reason (e.g. "truncated file: eof = 300000, ... stored_eof = 1167816") in the refusal.
 */
let diagnostics = '';
const writeSync = fs.writeSync;
fs.writeSync = function (fd: number, buffer: string | NodeJS.ArrayBufferView, ...rest: unknown[]): number {
  if (fd !== 2) return (writeSync as (...args: unknown[]) => number)(fd, buffer, ...rest);
  if (typeof buffer === 'string') {
    diagnostics = (diagnostics + buffer).slice(-4000);
    return Buffer.byteLength(buffer);
  }
  const offset = typeof rest[0] === 'number' ? rest[0] : 0;
  const length = typeof rest[1] === 'number' ? rest[1] : buffer.byteLength - offset;
  diagnostics = (diagnostics + Buffer.from(buffer.buffer, buffer.byteOffset + offset, length).toString('utf8')).slice(-4000);
  return length;
} as typeof fs.writeSync;

/** The last HDF5 stack entry's message: `#006: .../H5Fsuper.c line 577 in H5F__super_read(): truncated file: ...`. */
function hdf5Reason(): string | undefined {
  const entries = [...diagnostics.matchAll(/#\d+: .* in [A-Za-z0-9_]+\(\): (.*)/g)];
  return entries.at(-1)?.[1]?.trim();
}

async function answer(id: number, { file, options }: ReadRequest): Promise<void> {
  diagnostics = '';
  try {
    const content = await readKerasContent(file, options);
    const transfer = (content.weights ?? []).flatMap((l) => l.tensors.map((t) => t.data.buffer as ArrayBuffer));
    parentPort?.postMessage({ id, reply: { content } satisfies ReadReply }, transfer);
  } catch (e) {
    const reason = hdf5Reason();
    const error = `${(e as Error).message}${reason ? ` (HDF5: ${reason})` : ''}`;
    parentPort?.postMessage({ id, reply: { error, refused: e instanceof KerasRefused } satisfies ReadReply });
  }
}

// One file at a time: h5wasm is synchronous anyway, and the diagnostics belong to one read.
let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', ({ id, request }: { id: number; request: ReadRequest }) => {
  queue = queue.then(() => answer(id, request));
});
