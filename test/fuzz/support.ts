/**
 * Shared pieces of the property-based ("fuzz") tests: the seed and run counts, the check every
 * answer must pass, and the byte-level tools (multipart bodies, PNG chunks, JPEG segments) the
 * arbitraries are built from.
 *
 * Reproducible by default: every property runs with FUZZ_SEED (fixed) and its own numRuns. On a
 * failure fast-check prints `seed`, `path` and the shrunk counterexample; replay exactly that case
 * with `fc.assert(..., { seed, path, endOnFailure: true })`, or rerun the file with
 * FUZZ_SEED=<seed>. FUZZ_RUNS=<factor> scales every numRuns (e.g. FUZZ_RUNS=20 for a long local
 * hunt; CI keeps 1). FUZZ_STATS=1 (or 2, with the start of each detail) prints the answers by
 * status after each file; FUZZ_TRACE=<file> appends each request to that file before it is
 * sent. The server runs in the test process: a request that blocks its event loop (like the
 * base64 ReDoS this found) stops jest's timeouts too, and FUZZ_TRACE's last line names it.
 */
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import type { Response } from 'supertest';
import { FIXTURES } from '../support/service';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_250_611);
const RUNS_FACTOR = Number(process.env.FUZZ_RUNS ?? 1);

/** fc.assert parameters of a property: the fixed seed, its run count (scaled by FUZZ_RUNS). */
export function fuzzParams(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * RUNS_FACTOR)) };
}

/** Time a property may take in jest (its run count may be scaled up locally). */
export function propertyTimeout(budgetMs: number): number {
  return Math.max(budgetMs, budgetMs * RUNS_FACTOR);
}

const PROJECT_DIR = path.resolve(__dirname, '..', '..');

function describeAnswer(res: Response): string {
  const text = typeof res.text === 'string' ? res.text : JSON.stringify(res.body);
  return `${res.status} ${String(res.headers['content-type'])} ${text.length > 600 ? `${text.slice(0, 600)}...` : text}`;
}

/**
 * The contract every answer to hostile input keeps: never a 5xx; every non-2xx (any 4xx, with
 * `anySuccess` for routes that also serve files and redirects) is an RFC 7807
 * application/problem+json body whose type/title/status/detail are present and agree with the
 * status, and which leaks no stack frame or server path. Throws (so fast-check records the
 * counterexample) with the answer in the message.
 */
export function checkAnswer(res: Response, request: string, { anySuccess = false }: { anySuccess?: boolean } = {}): void {
  tally(res);
  const fail = (why: string): never => {
    throw new Error(`${request}: ${why}\n  answer: ${describeAnswer(res)}`);
  };
  if (res.status >= 500) fail(`status ${res.status} (a 5xx for client input)`);
  if (anySuccess && res.status < 400) return;
  if (res.status >= 200 && res.status < 300) {
    if (!/^application\/json/.test(String(res.headers['content-type']))) fail('a 2xx that is not application/json');
    return;
  }
  if (!/^application\/problem\+json/.test(String(res.headers['content-type'] ?? ''))) fail('a non-2xx that is not application/problem+json');
  let body: unknown = res.body;
  if (body === null || typeof body !== 'object' || Object.keys(body).length === 0) {
    try {
      body = JSON.parse(res.text) as unknown;
    } catch {
      fail('a problem body that is not JSON');
    }
  }
  const problem = body as Record<string, unknown>;
  if (typeof problem.type !== 'string' || !/^urn:specserve:problem:[a-z-]+$/.test(problem.type)) fail('problem `type` missing or not a specserve URN');
  if (typeof problem.title !== 'string' || problem.title === '') fail('problem `title` missing');
  if (problem.status !== res.status) fail(`problem \`status\` ${String(problem.status)} differs from the HTTP status`);
  if (typeof problem.detail !== 'string' || problem.detail === '') fail('problem `detail` missing');
  const text = JSON.stringify(problem);
  if (/\bat [^\s"]+ \([^)]*:\d+:\d+\)/.test(text) || /\n\s+at /.test(text)) fail('a stack trace in the problem body');
  if (text.includes(PROJECT_DIR) || text.includes('node_modules') || /\.ts:\d+/.test(text)) fail('a server path in the problem body');
}

/** FUZZ_TRACE=<file>: each request is appended to the file before it is sent (to find one that hangs). */
export function trace(what: string): void {
  if (process.env.FUZZ_TRACE) appendFileSync(process.env.FUZZ_TRACE, `${new Date().toISOString()} ${what.slice(0, 300)}\n`);
}

/** FUZZ_STATS=1: count answers by status and problem type, printed after each file. */
const STATS = process.env.FUZZ_STATS === '1' || process.env.FUZZ_STATS === '2';
/** FUZZ_STATS=2: by the start of the detail too. */
const DETAILED = process.env.FUZZ_STATS === '2';
const counts = new Map<string, number>();

function tally(res: Response): void {
  if (!STATS) return;
  const type = typeof (res.body as { type?: unknown } | undefined)?.type === 'string' ? ` ${String((res.body as { type: string }).type).replace('urn:specserve:problem:', '')}` : '';
  const detail = (res.body as { detail?: unknown } | undefined)?.detail;
  const key = `${res.status}${type}${DETAILED && typeof detail === 'string' ? ` ${detail.replace(/\d+/g, 'N').slice(0, 70)}` : ''}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

if (STATS) {
  afterAll(() => {
    const lines = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `  ${k}: ${n}`);
    console.log(`answers by status:\n${lines.join('\n')}`);
  });
}

// ---- fixtures ------------------------------------------------------------------------------

function readAll(dir: string, pattern: RegExp): { name: string; bytes: Buffer }[] {
  return readdirSync(path.join(FIXTURES, dir))
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, bytes: readFileSync(path.join(FIXTURES, dir, f)) }));
}

export const SEVEN = readFileSync(path.join(FIXTURES, 'mnist', '7.png'));
export const MNIST_PNGS = readAll('mnist', /\.png$/);
export const MULTILABEL_PNGS = readAll('multilabel', /^(0-5|1|7-8|3-5-inverted)\.png$/);

// ---- routes --------------------------------------------------------------------------------

/** The upload routes and the field each expects its file in. */
export const UPLOAD_ROUTES: readonly { path: string; field: string }[] = [
  { path: '/mnist/classify', field: 'file' },
  { path: '/models/mnist/classify', field: 'file' },
  { path: '/models/fashion/classify', field: 'file' },
  { path: '/models/mnist-multilabel/classify', field: 'file' },
  { path: '/models/imagenet/classify', field: 'file' },
  { path: '/predict', field: 'image' },
  { path: '/inference', field: 'image' },
  { path: '/scorefile/', field: 'file' },
];

// ---- multipart -----------------------------------------------------------------------------

export interface Part {
  /** Raw header lines, without CRLF. */
  headers: string[];
  body: Buffer;
}

/** A multipart/form-data body from parts, exactly as written (no escaping: the caller chooses the bytes). */
export function multipartBody(boundary: string, parts: readonly Part[], { eol = '\r\n', closing = true }: { eol?: string; closing?: boolean } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}${eol}${part.headers.map((h) => `${h}${eol}`).join('')}${eol}`, 'latin1'), part.body, Buffer.from(eol, 'latin1'));
  }
  if (closing) chunks.push(Buffer.from(`--${boundary}--${eol}`, 'latin1'));
  return Buffer.concat(chunks);
}

/** A well-formed file part. */
export function filePart(field: string, filename: string, contentType: string, body: Buffer): Part {
  return { headers: [`Content-Disposition: form-data; name="${field}"; filename="${filename}"`, `Content-Type: ${contentType}`], body };
}

// ---- PNG -----------------------------------------------------------------------------------

export interface PngChunk {
  type: string;
  data: Buffer;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The chunks of a well-formed PNG (the fixtures). */
export function pngChunks(png: Buffer): PngChunk[] {
  const chunks: PngChunk[] = [];
  for (let at = 8; at + 12 <= png.length; ) {
    const length = png.readUInt32BE(at);
    chunks.push({ type: png.toString('latin1', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return chunks;
}

/** One chunk's bytes; `length` overrides the declared length, `crc: false` writes a wrong CRC. */
export function pngChunk({ type, data }: PngChunk, { length = data.length, crc = true }: { length?: number; crc?: boolean } = {}): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(length >>> 0, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc ? zlib.crc32(body) >>> 0 : (zlib.crc32(body) ^ 0x5a5a5a5a) >>> 0, 8 + data.length);
  return out;
}

export function pngFile(chunks: readonly Buffer[]): Buffer {
  return Buffer.concat([PNG_SIGNATURE, ...chunks]);
}

// ---- JPEG ----------------------------------------------------------------------------------

export interface JpegSegment {
  /** Offset of the 0xFF of the marker. */
  at: number;
  marker: number;
  /** Offset and length (the 2 length bytes included) of the segment after the marker; 0 for none. */
  length: number;
}

/** The marker segments of a JPEG up to (and including) SOS; the entropy-coded data follows. */
export function jpegSegments(jpeg: Buffer): JpegSegment[] {
  const segments: JpegSegment[] = [];
  let at = 2; // after SOI
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1]!;
    const length = jpeg.readUInt16BE(at + 2);
    segments.push({ at, marker, length });
    if (marker === 0xda) break; // SOS: scan data follows
    at += 2 + length;
  }
  return segments;
}

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): the frame header with the dimensions. */
export function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}
