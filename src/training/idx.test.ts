import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, IdxFormatError, parseIdx, readIdxFile, type IdxArray } from './idx';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'idx');
const fixture = (name: string) => path.join(FIXTURES, name);
const IMAGES = fixture('fashion-t10k-images-first200-idx3-ubyte.gz');
const LABELS_GZ = fixture('fashion-t10k-labels-first200-idx1-ubyte.gz');
const LABELS_PLAIN = fixture('fashion-t10k-labels-first200-idx1-ubyte');

/** Header bytes + body bytes. */
const bytes = (...values: number[]) => new Uint8Array(values);

describe('IDX reader on the Fashion-MNIST fixtures', () => {
  it('reads gzipped images as uint8 [200, 28, 28]', () => {
    const images = readIdxFile(IMAGES);
    expect(images.dtype).toBe('uint8');
    expect(images.dims).toEqual([200, 28, 28]);
    expect(images.data).toBeInstanceOf(Uint8Array);
    expect(images.data).toHaveLength(200 * 784);
    // Garments are light on a black border: the corners of the first image are 0, it has ink.
    expect(images.data[0]).toBe(0);
    expect(Math.max(...images.data.subarray(0, 784))).toBeGreaterThan(200);
  });

  it('reads labels the same whether gzipped or not (detected by magic bytes, not the name)', () => {
    const gz = readIdxFile(LABELS_GZ);
    const plain = readIdxFile(LABELS_PLAIN);
    expect(gz.dims).toEqual([200]);
    expect(plain).toEqual(gz);
    // The first labels of the official t10k set: ankle boot, pullover, trouser, trouser, shirt.
    expect(Array.from(gz.data.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
  });
});

describe('IDX element types, big-endian', () => {
  const cases: IdxArray[] = [
    { dtype: 'uint8', dims: [2, 3], data: new Uint8Array([0, 1, 2, 253, 254, 255]) },
    { dtype: 'int8', dims: [4], data: new Int8Array([-128, -1, 0, 127]) },
    { dtype: 'int16', dims: [3], data: new Int16Array([-32768, 258, 32767]) },
    { dtype: 'int32', dims: [1, 2, 2], data: new Int32Array([-2147483648, -1, 16909060, 2147483647]) },
    { dtype: 'float32', dims: [3], data: new Float32Array([-1.5, 0, 3.25]) },
    { dtype: 'float64', dims: [2], data: new Float64Array([Math.PI, -1e300]) },
  ];
  it.each(cases.map((c) => [c.dtype, c] as const))('%s round-trips, plain and gzipped', (_dtype, array) => {
    expect(parseIdx(encodeIdx(array))).toEqual(array);
    expect(parseIdx(encodeIdx(array, { gzip: true }))).toEqual(array);
  });

  it('decodes the byte layout by hand: magic, dims and values big-endian', () => {
    const parsed = parseIdx(bytes(0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe));
    expect(parsed).toEqual({ dtype: 'int16', dims: [2], data: new Int16Array([258, -2]) });
  });

  it('does not alias the input buffer', () => {
    const input = encodeIdx({ dtype: 'uint8', dims: [2], data: new Uint8Array([7, 8]) });
    const parsed = parseIdx(input);
    input[input.length - 1] = 99;
    expect(Array.from(parsed.data)).toEqual([7, 8]);
  });
});

describe('IDX errors', () => {
  it('rejects a bad magic number, showing the bytes found', () => {
    const png = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    expect(() => parseIdx(png, 'x.png')).toThrow(IdxFormatError);
    expect(() => parseIdx(png, 'x.png')).toThrow(/x\.png: bad magic number 89 50 4e 47/);
    expect(() => parseIdx(bytes(0, 0, 0x07, 1, 0, 0, 0, 0))).toThrow(/bad magic number 00 00 07 01/); // unknown type
    expect(() => parseIdx(bytes(0, 0, 0x08, 0))).toThrow(/bad magic number/); // zero dimensions
  });

  it('rejects truncated files: header, dimensions, values', () => {
    expect(() => parseIdx(bytes(0, 0), 'a')).toThrow(/a: truncated: 2 bytes/);
    expect(() => parseIdx(bytes(0, 0, 8, 3, 0, 0, 0, 200, 0, 0), 'b')).toThrow(/b: truncated header: 3 dimensions need 16 bytes, the file has 10/);
    const full = encodeIdx({ dtype: 'uint8', dims: [2, 3], data: new Uint8Array(6) });
    expect(() => parseIdx(full.subarray(0, full.length - 1), 'c')).toThrow(/c: truncated: dims \[2, 3\] need 6 uint8 values \(18 bytes\), the file has 5/);
  });

  it('rejects bytes after the declared values', () => {
    const full = encodeIdx({ dtype: 'uint8', dims: [2], data: new Uint8Array(2) });
    expect(() => parseIdx(new Uint8Array([...full, 0]))).toThrow(/1 unexpected bytes after the 2 values/);
  });

  it('rejects a truncated gzip stream, and a gzipped non-IDX file', () => {
    const gz = encodeIdx({ dtype: 'uint8', dims: [100], data: new Uint8Array(100).fill(3) }, { gzip: true });
    expect(() => parseIdx(gz.subarray(0, gz.length - 6), 'd.gz')).toThrow(/d\.gz: corrupt or truncated gzip stream/);
    expect(() => parseIdx(new Uint8Array(gzipSync(Buffer.from('hello world'))), 'e.gz')).toThrow(/e\.gz: bad magic number 68 65 6c 6c/);
  });

  it('names the file in errors from readIdxFile', () => {
    expect(() => readIdxFile(path.join(__dirname, 'idx.ts'))).toThrow(/idx\.ts: bad magic number/);
  });
});
