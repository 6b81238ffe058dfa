/**
 * Photo decoding, old path against new, side by side in one run: `npm run bench:photos`.
 *
 * Two servers (node dist/src/server.js, the shipped model store), one with IMAGE_DECODER=sharp
 * (libvips, the default) and one with IMAGE_DECODER=jimp (the pure-JS path, what every upload used
 * before sharp). Each is driven in turn, the same way:
 *   - c=1: POST /predict (MobileNet, 224x224) with each photo fixture one request at a time
 *     (BENCH_PHOTO_REQUESTS each, 3 for HEIC), p50 latency; and the ~600-byte JPEG declaring
 *     6000x6000 (must be a 400);
 *   - c=8: /predict with the 9 MP Nokia JPEG for BENCH_SECONDS (autocannon), photos/s and the
 *     server's peak RSS (process tree, sampled every 100 ms), once the HEIC decode threads of the
 *     c=1 runs have ended;
 *   - c=64: /mnist/classify with test/fixtures/mnist/7.png for BENCH_SECONDS, req/s (every answer
 *     must be digit 7).
 * Then the ratios sharp/jimp. Numbers are printed, never asserted. The machine may be shared:
 * only the ratios of one run mean much.
 *
 * Env: BENCH_SECONDS (10), BENCH_PHOTO_REQUESTS (9), SERVING_THREADS and WORKERS (passed to both servers),
 * BENCH_DECODERS (sharp,jimp), BENCH_START_TIMEOUT_SECONDS (180).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/paths';
import { installExitHooks, killAll, type RunningServer, startServer } from './lib/children';
import { envNumber, sleep } from './lib/env';
import { runLoad } from './lib/load';
import { IDLE_MS as HEIC_THREAD_IDLE_MS } from '../src/images/decode-thread';
import { median } from '../src/images/stats';
import { multipartFile } from '../test/support/multipart';

const SECONDS = envNumber('BENCH_SECONDS', 10, 1);
const REQUESTS = envNumber('BENCH_PHOTO_REQUESTS', 9, 1);
const START_TIMEOUT_MS = envNumber('BENCH_START_TIMEOUT_SECONDS', 180, 1) * 1000;
const DECODERS = (process.env.BENCH_DECODERS ?? 'sharp,jimp').split(',').map((s) => s.trim());

const fixture = (...parts: string[]) => readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', ...parts));

interface Photo {
  name: string;
  file: string;
  mime: string;
  bytes: Buffer;
  requests: number;
}

const PHOTOS: Photo[] = [
  { name: '375x500 JPEG (dog.jpg)', file: 'dog.jpg', mime: 'image/jpeg', bytes: fixture('photos', 'dog.jpg'), requests: REQUESTS },
  { name: '375x500 WebP (dog.webp)', file: 'dog.webp', mime: 'image/webp', bytes: fixture('photos', 'dog.webp'), requests: REQUESTS },
  { name: '375x500 AVIF (dog.avif)', file: 'dog.avif', mime: 'image/avif', bytes: fixture('photos', 'dog.avif'), requests: REQUESTS },
  { name: '9 MP phone JPEG (Nokia 8.3)', file: 'nokia.jpg', mime: 'image/jpeg', bytes: fixture('phone-photos', 'nokia-8.3-harbour.jpg'), requests: REQUESTS },
  { name: '12 MP phone HEIC (iPhone 13)', file: 'kitchen.heic', mime: 'image/heic', bytes: fixture('phone-photos', 'iphone-13-pro-max-kitchen.heic'), requests: 3 },
];

/** ~600 bytes: car.jpg's first 600 bytes with the frame header saying 6000x6000. */
function tinyHugeJpeg(): Buffer {
  const jpeg = Buffer.from(fixture('photos', 'car.jpg').subarray(0, 600));
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(6000, sof + 5);
  jpeg.writeUInt16BE(6000, sof + 7);
  return jpeg;
}

async function post(base: string, route: string, field: string, photo: { file: string; mime: string; bytes: Buffer }): Promise<{ status: number; ms: number }> {
  const { body, contentType } = multipartFile(field, photo.file, photo.mime, photo.bytes);
  const started = performance.now();
  const res = await fetch(base + route, { method: 'POST', headers: { 'content-type': contentType }, body });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

/** p50 of `n` sequential requests after one warm-up request; NaN unless every answer is `expect`. */
async function p50(base: string, photo: Photo, n: number, expect = 200): Promise<{ p50: number; status: number }> {
  const warm = await post(base, '/predict', 'image', photo);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const { status, ms } = await post(base, '/predict', 'image', photo);
    if (status !== expect) return { p50: Number.NaN, status };
    times.push(ms);
  }
  return { p50: median(Float64Array.from(times)), status: warm.status };
}

interface Result {
  decoder: string;
  latency: Record<string, number>;
  statuses: Record<string, number>;
  tinyHugeMs: number;
  tinyHugeStatus: number;
  photosPerSec: number;
  photoP50: number;
  peakRssMb: number;
  photoErrors: number;
  mnistReqPerSec: number;
  mnistErrors: number;
}

async function measure(decoder: string): Promise<Result> {
  const server: RunningServer = await startServer({
    name: `specserve (IMAGE_DECODER=${decoder})`,
    script: path.join(PROJECT_ROOT, 'dist', 'src', 'server.js'),
    nodeArgs: [],
    env: { ...process.env, IMAGE_DECODER: decoder, MODEL_POLL_SECONDS: '0', LOG_LEVEL: 'warn' },
    readyPath: '/v2/health/ready',
    startTimeoutMs: START_TIMEOUT_MS,
  });
  try {
    const latency: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    for (const photo of PHOTOS) {
      const r = await p50(server.base, photo, photo.requests);
      latency[photo.name] = r.p50;
      statuses[photo.name] = r.status;
    }
    const tiny = { file: 'tiny.jpg', mime: 'image/jpeg', bytes: tinyHugeJpeg() };
    await post(server.base, '/predict', 'image', tiny);
    const tinyRuns = await Promise.all([0, 1, 2, 3, 4].map(() => post(server.base, '/predict', 'image', tiny)));
    // The HEIC decode threads end 5 s after their last decode (src/images/decode-thread.ts); wait
    // for them, so that c=8 measures JPEG traffic alone rather than the HEIC requests before it.
    await sleep(HEIC_THREAD_IDLE_MS + 1000);
    const nokia = PHOTOS.find((p) => p.file === 'nokia.jpg')!;
    const upload = multipartFile('image', nokia.file, nokia.mime, nokia.bytes);
    const c8 = await runLoad({ url: `${server.base}/predict`, connections: 8, seconds: SECONDS, body: upload.body, contentType: upload.contentType, timeoutSeconds: 60, pid: server.pid });
    const digit = multipartFile('file', '7.png', 'image/png', fixture('mnist', '7.png'));
    const c64 = await runLoad({ url: `${server.base}/mnist/classify`, connections: 64, seconds: SECONDS, body: digit.body, contentType: digit.contentType, expectDigit: 7, timeoutSeconds: 30, pid: server.pid });
    return {
      decoder,
      latency,
      statuses,
      tinyHugeMs: median(Float64Array.from(tinyRuns.map((r) => r.ms))),
      tinyHugeStatus: tinyRuns[0]!.status,
      photosPerSec: c8.reqPerSec,
      photoP50: c8.p50,
      peakRssMb: c8.peakRssMb,
      photoErrors: c8.errors,
      mnistReqPerSec: c64.reqPerSec,
      mnistErrors: c64.errors,
    };
  } finally {
    await server.stop();
  }
}

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  installExitHooks();
  const results: Result[] = [];
  for (const decoder of DECODERS) results.push(await measure(decoder));
  console.log(`\n/predict (MobileNet v1 0.25, 224x224), SERVING_THREADS=${process.env.SERVING_THREADS ?? 1}, WORKERS=${process.env.WORKERS ?? 'cores'}, ${SECONDS} s per load run\n`);
  console.log(['c=1 p50 ms', ...results.map((r) => `IMAGE_DECODER=${r.decoder}`)].join(' | '));
  for (const photo of PHOTOS) {
    console.log([photo.name, ...results.map((r) => (r.statuses[photo.name] === 200 ? f(r.latency[photo.name]!) : `status ${r.statuses[photo.name]}`))].join(' | '));
  }
  console.log(['~600-byte JPEG declaring 6000x6000', ...results.map((r) => `${f(r.tinyHugeMs)} ms (status ${r.tinyHugeStatus})`)].join(' | '));
  console.log(['c=8 9 MP JPEG photos/s', ...results.map((r) => `${f(r.photosPerSec, 2)} (p50 ${f(r.photoP50, 0)} ms, errors ${r.photoErrors})`)].join(' | '));
  console.log(['c=8 peak RSS MB (server tree)', ...results.map((r) => f(r.peakRssMb, 0))].join(' | '));
  console.log(['/mnist/classify c=64 req/s', ...results.map((r) => `${f(r.mnistReqPerSec, 0)} (errors ${r.mnistErrors})`)].join(' | '));
  const sharp = results.find((r) => r.decoder === 'sharp');
  const jimp = results.find((r) => r.decoder === 'jimp');
  if (sharp && jimp) {
    console.log('\nratios sharp / jimp (same run):');
    console.log(`  c=8 9 MP JPEG photos/s: ${f(sharp.photosPerSec / jimp.photosPerSec, 1)}x`);
    console.log(`  /mnist/classify c=64 req/s: ${f(sharp.mnistReqPerSec / jimp.mnistReqPerSec, 2)}x`);
    for (const photo of PHOTOS) console.log(`  c=1 p50 ${photo.name}: ${f(jimp.latency[photo.name]! / sharp.latency[photo.name]!, 1)}x faster`);
  }
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => killAll());
