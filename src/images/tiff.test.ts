import { deflateSync } from 'node:zlib';
import { ImageTooLarge, UndecodableImage, UnsupportedImage } from '../errors/errors';
import { decodeToGray, decodeToRgba } from './decode';
import { decodeBoundMs } from './decode-thread';
import { sniffImage } from './sniff';
import { ANY_SIZE, darkDigit, fx, grayDiff, problem, TEST_DECODER, ACCEPTED_TEXT } from '../../test/support/format-fixtures';



/** An IFD entry written as given: tag, type, count, and the raw 4-byte value field. */
type RawEntry = [tag: number, type: number, count: number, value: number];

/**
 * A little-endian one-strip TIFF: the tags given (SHORT when the value fits, LONG otherwise), `raw`
 * entries as they are, plus StripOffsets and StripByteCounts for `strip`, which follows the IFD.
 */
function tiff(tags: Record<number, number>, strip: Uint8Array, raw: RawEntry[] = []): Buffer {
  const count = Object.keys(tags).length + 2 + raw.length;
  const ifdEnd = 8 + 2 + count * 12 + 4;
  const entries: RawEntry[] = [
    ...Object.entries({ ...tags, 273: ifdEnd, 279: strip.length }).map(([tag, v]): RawEntry => {
      const long = v > 0xffff || tag === '273' || tag === '279';
      return [Number(tag), long ? 4 : 3, 1, v];
    }),
    ...raw,
  ].sort(([a], [b]) => a - b);
  const b = Buffer.alloc(ifdEnd + strip.length);
  b.write('II*\0', 0, 'latin1');
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, n, value], i) => {
    const at = 10 + i * 12;
    b.writeUInt16LE(tag, at);
    b.writeUInt16LE(type, at + 2);
    b.writeUInt32LE(n, at + 4);
    if (type === 3 && n === 1) b.writeUInt16LE(value, at + 8);
    else b.writeUInt32LE(value, at + 8);
  });
  b.set(strip, ifdEnd);
  return b;
}

/** An 8x8 8-bit greyscale image, uncompressed unless told otherwise. */
const grey = (extra: Record<number, number> = {}, strip: Uint8Array = new Uint8Array(64).fill(200), raw: RawEntry[] = []) =>
  tiff({ 256: 8, 257: 8, 258: 8, 259: 1, 262: 1, 277: 1, 278: 8, ...extra }, strip, raw);

describe('TIFF variants are the digit they were made from', () => {
  it.each([
    ['2-tiff-none.tif', 2, 0.002],
    ['3-tiff-zip-16.tif', 3, 0.002], // Deflate, 16-bit samples, horizontal predictor
    ['9-tiff-bigendian.tif', 9, 0.002], // "MM" byte order, RGB
    ['4-tiff-g4.tif', 4, 0.1], // CCITT Group 4, 1 bit, white-is-zero
    ['5-tiff-packbits-palette.tif', 5, 0.02], // PackBits, 4-bit palette
    ['8-tiff-orient6.tif', 8, 0.002], // stored turned, Orientation 6
  ])('%s', async (file, digit, tolerance) => {
    expect(grayDiff(await decodeToGray(fx(file), ANY_SIZE), await darkDigit(digit))).toBeLessThan(tolerance);
  });

  it('honours the Orientation tag', () => {
    expect(sniffImage(fx('8-tiff-orient6.tif'), TEST_DECODER)).toEqual({ format: 'tiff', width: 28, height: 28, orientation: 6 });
  });

  it('colour variants (LZW + predictor, tiles, JPEG strips) are the same picture as the JPEG of it', async () => {
    const lzw = await decodeToGray(fx('2-tiff-lzw-rgb.tif'), ANY_SIZE);
    expect(grayDiff(lzw, await decodeToGray(fx('2-jpeg-restart.jpg'), ANY_SIZE))).toBeLessThan(0.03);
    const tiled = await decodeToGray(fx('7-tiff-tiled.tif'), ANY_SIZE);
    expect(grayDiff(tiled, await decodeToGray(fx('7-jpeg-exif-1.jpg'), ANY_SIZE))).toBeLessThan(0.03);
    // The JPEG-in-TIFF 6 has no twin: compare it, halved, with the 28x28 digit in navy on cream.
    const jpeg = await decodeToGray(fx('6-tiff-jpeg.tif'), ANY_SIZE);
    const luma = ([r, g, b]: number[]) => (0.299 * r! + 0.587 * g! + 0.114 * b!) / 255;
    const [navy, cream] = [luma([20, 30, 110]), luma([250, 246, 230])];
    const expected = (await darkDigit(6)).data.map((v) => navy + v * (cream - navy));
    const half = Float32Array.from({ length: 28 * 28 }, (_, i) => {
      const [x, y] = [(i % 28) * 2, Math.floor(i / 28) * 2];
      return (jpeg.data[y * 56 + x]! + jpeg.data[y * 56 + x + 1]! + jpeg.data[(y + 1) * 56 + x]! + jpeg.data[(y + 1) * 56 + x + 1]!) / 4;
    });
    expect(grayDiff({ data: half }, { data: expected })).toBeLessThan(0.05);
  });

  it('CMYK: converted to RGB (utif2 alone needs a browser for it)', async () => {
    const img = await decodeToRgba(fx('5-tiff-cmyk.tif'), ANY_SIZE);
    const near = (rgb: number[], want: number[]) => rgb.every((v, i) => Math.abs(v - want[i]!) <= 3);
    const pixels = Array.from({ length: img.width * img.height }, (_, i) => Array.from(img.data.subarray(i * 4, i * 4 + 3)));
    expect(near(pixels[0]!, [250, 246, 230])).toBe(true); // cream paper
    expect(pixels.some((p) => near(p, [20, 30, 110]))).toBe(true); // navy ink
  });
});

describe('TIFF: the first page only', () => {
  const twoPages = fx('0-tiff-2pages-then-7.tif');

  it('a 0 then a 7 is read as the 0', async () => {
    expect(grayDiff(await decodeToGray(twoPages, ANY_SIZE), await darkDigit(0))).toBeLessThan(0.002);
  });

  it('a file cut inside its second page still gives the first', async () => {
    // Page 1's strip and IFD come first; the second IFD's offset is page 1's "next IFD" pointer.
    const secondIfd = twoPages.readUInt32LE(twoPages.readUInt32LE(4) + 2 + twoPages.readUInt16LE(twoPages.readUInt32LE(4)) * 12);
    const cut = twoPages.subarray(0, secondIfd - 20);
    expect(grayDiff(await decodeToGray(cut, ANY_SIZE), await darkDigit(0))).toBeLessThan(0.002);
  });
});

describe('TIFF variants refused with 415, by name', () => {
  it.each([
    ['old-style JPEG compression (6)', grey({ 259: 6 })],
    ['compression 34712', grey({ 259: 34712 })],
    ['4-bit greyscale', grey({ 258: 4 }, new Uint8Array(32))],
    ['signed or undefined sample values', grey({ 339: 2 })],
    ['predictor 3', grey({ 317: 3 })],
    ['CIE L*a*b* colour', grey({ 262: 8 })],
    ['YCbCr samples without JPEG compression', grey({ 262: 6, 277: 3 }, new Uint8Array(192))],
    ['inks other than CMYK', grey({ 262: 5, 277: 4, 332: 2 }, new Uint8Array(256))],
  ])('%s', async (variant, bytes) => {
    const err = await problem(bytes);
    expect(err).toBeInstanceOf(UnsupportedImage);
    expect((err as UnsupportedImage).detail).toBe(`TIFF with ${variant} is not supported; send one of: ${ACCEPTED_TEXT}.`);
  });

  it('the builder makes a valid TIFF', async () => {
    const img = await decodeToRgba(grey(), ANY_SIZE);
    expect(new Set(img.data)).toEqual(new Set([200, 255]));
  });
});

describe('TIFF damage: a bounded answer on either decoder (an image, or a 400), never a hang or a 500', () => {
  /** An LZW strip with a code not in the table: 9-bit codes, MSB first: clear (256), 65, then 300. */
  const badLzw = () => {
    let bits = [256, 65, 300].map((c) => c.toString(2).padStart(9, '0')).join('');
    bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
    return Uint8Array.from(bits.match(/.{8}/g)!, (byte) => parseInt(byte, 2));
  };
  const jpegFrameTooLarge = () => {
    const file = Buffer.from(fx('6-tiff-jpeg.tif'));
    const sof = file.indexOf(Buffer.from([0xff, 0xc0]));
    file.writeUInt16BE(60_000, sof + 5);
    file.writeUInt16BE(60_000, sof + 7);
    return file;
  };

  it.each<[string, () => Buffer]>([
    // utif2 alone can loop forever on this (the jimp path stops it at the decode bound).
    ['an LZW strip with a code not in the table', () => grey({ 259: 5 }, badLzw())],
    ['a Deflate strip that decompresses to fewer bytes than its rows', () => grey({ 259: 8 }, deflateSync(Buffer.alloc(40)))],
    ['a Deflate strip that inflates far beyond its share of the image', () => grey({ 259: 8 }, deflateSync(Buffer.alloc(16 * 2 ** 20)))],
    ['a JPEG strip whose frame is larger than the strip', jpegFrameTooLarge],
    ['strips missing from the table', () => grey({ 278: 4 })],
    ['a file cut inside its strip', () => fx('2-tiff-none.tif').subarray(0, 300)],
    // An EXIF IFD pointer into garbage, and a SHORT array claiming 200 million values: utif2 alone
    // spends ~20 s and gigabytes building a JS array that long (the decode thread's heap is capped).
    [
      'tags that point into garbage or claim 200 million values',
      () => grey({}, undefined, [[34665, 4, 1, 3], [33723, 3, 200_000_000, 8]]),
    ],
  ])('%s', async (_what, make) => {
    const started = Date.now();
    const result = await problem(make());
    if (result instanceof Error) {
      expect(result).toBeInstanceOf(UndecodableImage);
    } else {
      expect(result).toMatchObject({ width: expect.any(Number), height: expect.any(Number) });
    }
    expect(Date.now() - started).toBeLessThan(decodeBoundMs(64 * 64) + 3_000);
  });

  it('huge dimensions are a 413 even when the strip table is damaged too', async () => {
    const err = await problem(grey({ 256: 60_000, 257: 60_000, 278: 60_000 }, new Uint8Array(3)));
    expect(err).toBeInstanceOf(ImageTooLarge);
  });
});
