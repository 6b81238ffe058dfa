import { Worker } from 'node:worker_threads';
import type { RgbaImage } from './orientation';

/** What a decode thread decodes: HEIC/HEIF with heic-decode, GIF and TIFF with jimp's codecs. */
export type ThreadCodec = 'heic' | 'gif' | 'tiff';

/**
 * The thread's code: plain JavaScript evaluated by the Worker (it only calls libraries), so it runs the
 * same from dist/ and under ts-jest. Module paths are resolved here and passed in: an evaluated
 * worker's require() resolves from the current directory. utif2 prints tile counts with console.log
 * and libheif prints parse errors with console.error; the thread reports errors in its replies, so
 * its console is silenced.
 */
const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
console.log = console.warn = console.error = () => undefined;
let heic, jimp;
const MIME = { gif: 'image/gif', tiff: 'image/tiff' };
parentPort.on('message', async ({ codec, bytes }) => {
  try {
    let out;
    if (codec === 'heic') {
      heic ??= require(workerData.heicDecode);
      parentPort.postMessage({ started: true });
      out = await heic({ buffer: new Uint8Array(bytes) });
    } else {
      jimp ??= new Map(require(workerData.jimp).defaultFormats.map((make) => make()).map((f) => [f.mime, f.decode]));
      parentPort.postMessage({ started: true });
      out = await jimp.get(MIME[codec])(Buffer.from(bytes));
    }
    const data = new Uint8Array(out.data.length);
    data.set(out.data);
    parentPort.postMessage({ width: out.width, height: out.height, data }, [data.buffer]);
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

/** The decode took longer than its bound; the thread was stopped. */
export class DecodeTimeout extends Error {}

/**
 * Time bound of one decode, from when its codec starts: 1 s, plus 1 ms per 1,000 declared pixels
 * (12 MP: 13 s; a 12 MP HEIC takes 1.3-5 s here alone, up to 8 s on a loaded machine).
 */
export function decodeBoundMs(pixels: number): number {
  return 1_000 + Math.ceil(pixels / 1_000);
}

/**
 * A decode thread that has been idle this long is stopped, returning the WebAssembly heap it grew
 * (libheif: ~100 MB after a 12 MP HEIC, per inference worker). Long enough that a burst of phone
 * photos keeps one warm thread (starting one costs ~0.4 s), short enough that the memory is back
 * before the next burst of other work: at 30 s it sat under a following load of JPEGs and raised
 * that load's peak RSS by ~200 MB (npm run bench:photos, docs/performance.md).
 */
export const IDLE_MS = 5_000;

interface Job {
  codec: ThreadCodec;
  bytes: Uint8Array;
  boundMs: number;
  resolve(image: RgbaImage): void;
  reject(err: Error): void;
}

type Reply = { started: true } | { width: number; height: number; data: Uint8Array } | { error: string };

/**
 * One decode thread per calling thread, running one decode at a time: the cap on concurrent HEIC
 * decodes (each holds 50-100 MB while it runs) is one per inference worker, so WORKERS in the
 * process. Jobs wait in arrival order; each one's time bound starts when it starts. A decode that
 * overruns its bound stops the thread (the only way to stop a WebAssembly or JS codec stuck in a
 * loop) and fails with `DecodeTimeout`; the next job starts a new thread.
 */
class DecodeThread {
  private worker: Worker | undefined;
  private readonly queue: Job[] = [];
  private running = false;
  private idleTimer: NodeJS.Timeout | undefined;

  decode(codec: ThreadCodec, bytes: Uint8Array, boundMs: number): Promise<RgbaImage> {
    return new Promise((resolve, reject) => {
      this.queue.push({ codec, bytes, boundMs, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.running) return;
    const job = this.queue.shift();
    if (job === undefined) {
      this.idleTimer = setTimeout(() => this.stop(), IDLE_MS).unref();
      this.worker?.unref();
      return;
    }
    clearTimeout(this.idleTimer);
    this.running = true;
    const worker = this.thread();
    worker.ref();
    const done = (settle: () => void) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      this.running = false;
      settle();
      this.next();
    };
    let timer: NodeJS.Timeout | undefined;
    const onMessage = (reply: Reply) => {
      // The bound runs from when the codec starts: loading it (a cold thread) is not the upload's doing.
      if ('started' in reply) {
        timer = setTimeout(() => {
          this.stop();
          done(() => job.reject(new DecodeTimeout(`it was not decoded within ${job.boundMs} ms`)));
        }, job.boundMs);
        return;
      }
      done(() => ('error' in reply ? job.reject(new Error(reply.error)) : job.resolve(reply)));
    };
    const onError = (err: Error) => done(() => (this.forget(worker), job.reject(err)));
    worker.on('message', onMessage);
    worker.on('error', onError);
    // A copy the thread owns (the caller's bytes may be a view into a larger buffer, and a Buffer's
    // slice() is a view too: a new Uint8Array of them is a copy).
    const bytes = new Uint8Array(job.bytes);
    worker.postMessage({ codec: job.codec, bytes }, [bytes.buffer]);
  }

  private thread(): Worker {
    if (this.worker === undefined) {
      const worker = new Worker(THREAD_CODE, {
        eval: true,
        // A codec building a runaway JS array (utif2 on a tag claiming 200 million values) runs out
        // of this heap and ends the thread, instead of taking gigabytes; libheif's WebAssembly memory
        // is outside it.
        resourceLimits: { maxOldGenerationSizeMb: 256 },
        workerData: { heicDecode: require.resolve('heic-decode'), jimp: require.resolve('jimp') },
      });
      worker.on('exit', () => this.forget(worker));
      this.worker = worker;
    }
    return this.worker;
  }

  private forget(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
  }

  private stop(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }
}

let shared: DecodeThread | undefined;

/** Decodes `bytes` in this thread's decode thread within `boundMs` (see `DecodeThread`). */
export function decodeInThread(codec: ThreadCodec, bytes: Uint8Array, boundMs: number): Promise<RgbaImage> {
  shared ??= new DecodeThread();
  return shared.decode(codec, bytes, boundMs);
}
