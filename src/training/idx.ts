import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
 *
 *   bytes 0-1  0x00 0x00
 *   byte  2    element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
 *   byte  3    number of dimensions, n
 *   n x uint32 big-endian dimension sizes
 *   the elements, big-endian, row-major (last dimension fastest)
 *
 * The distributed files are usually gzipped (`*-ubyte.gz`); a gzip stream (magic 1f 8b) is
 * inflated first, so both forms read the same. The whole file is read into memory (the largest
 * Fashion-MNIST file is 47 MB inflated), which is what training wants anyway.
 */

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The array type each IdxDtype is returned as (host byte order). */
export interface IdxTypedArrays {
  uint8: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  float32: Float32Array;
  float64: Float64Array;
}

/** A parsed IDX file: `data.length` is the product of `dims`. Discriminated by `dtype`. */
export type IdxArray = { [D in IdxDtype]: { dtype: D; dims: number[]; data: IdxTypedArrays[D] } }[IdxDtype];

/** A malformed IDX file (bad magic, truncated, trailing bytes, corrupt gzip); the message names the source. */
export class IdxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdxFormatError';
  }
}

const TYPE_CODES: Record<number, IdxDtype> = { 0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };
const BYTES: Record<IdxDtype, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses IDX bytes (gzipped or not). `source` only labels error messages, e.g. the file name.
 * Throws IdxFormatError for anything that is not exactly one well-formed IDX array.
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  let raw = bytes;
  if (isGzip(bytes)) {
    try {
      raw = gunzipSync(bytes);
    } catch (e) {
      throw new IdxFormatError(`${source}: corrupt or truncated gzip stream (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  if (raw.length < 4) throw new IdxFormatError(`${source}: truncated: ${raw.length} bytes, an IDX header needs at least 4`);
  const dtype = TYPE_CODES[raw[2]];
  if (raw[0] !== 0 || raw[1] !== 0 || dtype === undefined || raw[3] === 0) {
    throw new IdxFormatError(
      `${source}: bad magic number ${hex(raw.subarray(0, 4))}: expected 00 00, a type (08 09 0b 0c 0d 0e) and a dimension count >= 1`,
    );
  }
  const ndims = raw[3];
  const headerBytes = 4 + 4 * ndims;
  if (raw.length < headerBytes) {
    throw new IdxFormatError(`${source}: truncated header: ${ndims} dimensions need ${headerBytes} bytes, the file has ${raw.length}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const size = BYTES[dtype];
  const expected = headerBytes + count * size;
  if (raw.length < expected) {
    const have = Math.floor((raw.length - headerBytes) / size);
    throw new IdxFormatError(
      `${source}: truncated: dims [${dims.join(', ')}] need ${count} ${dtype} values (${expected} bytes), the file has ${have} (${raw.length} bytes)`,
    );
  }
  if (raw.length > expected) {
    throw new IdxFormatError(`${source}: ${raw.length - expected} unexpected bytes after the ${count} values of dims [${dims.join(', ')}]`);
  }
  const body = headerBytes;
  switch (dtype) {
    // Copies, never views: the result must not alias the caller's buffer. (`raw` may be a Node
    // Buffer, whose slice() is a view into a shared pool, hence `new Uint8Array(subarray)`.)
    case 'uint8':
      return { dtype, dims, data: new Uint8Array(raw.subarray(body, expected)) };
    case 'int8':
      return { dtype, dims, data: new Int8Array(new Uint8Array(raw.subarray(body, expected)).buffer) };
    case 'int16': {
      const data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(body + 2 * i, false);
      return { dtype, dims, data };
    }
    case 'int32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(body + 4 * i, false);
      return { dtype, dims, data };
    }
    case 'float32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(body + 4 * i, false);
      return { dtype, dims, data };
    }
    case 'float64': {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(body + 8 * i, false);
      return { dtype, dims, data };
    }
  }
}

/** Reads and parses an IDX file (gzipped or not); errors name the file. */
export function readIdxFile(file: string): IdxArray {
  return parseIdx(readFileSync(file), file);
}

/**
 * The inverse of parseIdx: IDX bytes for `array` (gzipped if asked). Used to cut the small test
 * fixtures out of the full files, and by the tests to build malformed inputs.
 */
export function encodeIdx(array: IdxArray, options: { gzip?: boolean } = {}): Uint8Array {
  const { dtype, dims, data } = array;
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`encodeIdx: dims [${dims.join(', ')}] need ${count} values, got ${data.length}`);
  if (dims.length < 1 || dims.length > 255) throw new Error(`encodeIdx: 1..255 dimensions, got ${dims.length}`);
  const code = Number(Object.keys(TYPE_CODES).find((k) => TYPE_CODES[Number(k)] === dtype));
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + count * BYTES[dtype]);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const at = header + i * BYTES[dtype];
    const v = data[i];
    switch (dtype) {
      case 'uint8':
        view.setUint8(at, v);
        break;
      case 'int8':
        view.setInt8(at, v);
        break;
      case 'int16':
        view.setInt16(at, v, false);
        break;
      case 'int32':
        view.setInt32(at, v, false);
        break;
      case 'float32':
        view.setFloat32(at, v, false);
        break;
      case 'float64':
        view.setFloat64(at, v, false);
        break;
    }
  }
  // Fixed mtime (gzip header) = 0 by default in zlib, so the output is reproducible.
  return options.gzip ? new Uint8Array(gzipSync(out, { level: 9 })) : out;
}
