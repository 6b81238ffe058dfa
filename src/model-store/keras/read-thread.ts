import { parentPort, workerData } from 'node:worker_threads';
import { KerasRefused } from './config';
import { type KerasContent, type ReadOptions, readKerasContent } from './keras-file';

/**
 * The Keras reading thread (started by read.ts, one per file read): reads the file, posts its
 * content back with the weight buffers transferred, and ends, which frees h5wasm's
 * WebAssembly memory (it only ever grows) and contains a WebAssembly abort on a corrupt file.
 */
export interface ReadRequest {
  file: string;
  options: ReadOptions;
}

export type ReadReply = { content: KerasContent } | { error: string; refused: boolean };

const { file, options } = workerData as ReadRequest;
readKerasContent(file, options).then(
  (content) => {
    const transfer = (content.weights ?? []).flatMap((l) => l.tensors.map((t) => t.data.buffer as ArrayBuffer));
    parentPort?.postMessage({ content } satisfies ReadReply, transfer);
  },
  (e: unknown) => {
    parentPort?.postMessage({ error: (e as Error).message, refused: e instanceof KerasRefused } satisfies ReadReply);
  },
);
