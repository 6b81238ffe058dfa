import { UndecodableImage, UnsupportedImage } from '../errors/errors';
import { decodeToGray, decodeToRgba } from './decode';
import { ANY_SIZE, darkDigit, fx, grayDiff, problem, ACCEPTED_TEXT } from '../../test/support/format-fixtures';



/**
 * A BMP with a 40-byte header, then the bit-field masks given, a palette of (r, g, b) entries and the
 * pixel bytes.
 */
function bmp(opts: {
  width: number;
  height: number;
  bits: number;
  compression?: number;
  masks?: number[];
  palette?: number[][];
  pixels: number[];
}): Buffer {
  const palette = opts.palette ?? [];
  const masks = opts.masks ?? [];
  const offset = 54 + masks.length * 4 + palette.length * 4;
  const b = Buffer.alloc(offset + opts.pixels.length);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(offset, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(opts.width, 18);
  b.writeInt32LE(opts.height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(opts.bits, 28);
  b.writeUInt32LE(opts.compression ?? 0, 30);
  b.writeUInt32LE(palette.length, 46);
  masks.forEach((m, i) => b.writeUInt32LE(m, 54 + i * 4));
  palette.forEach(([r, g, bl], i) => b.set([bl!, g!, r!, 0], 54 + masks.length * 4 + i * 4));
  b.set(opts.pixels, offset);
  return b;
}

/** Red channel of each pixel, row by row from the top. */
const reds = (img: { width: number; height: number; data: Uint8Array }) =>
  Array.from({ length: img.height }, (_, y) => Array.from({ length: img.width }, (_, x) => img.data[(y * img.width + x) * 4]));

describe('BMP variants are the digit they were made from', () => {
  it.each([
    ['1-bmp-24.bmp', 1, 0.002],
    ['1-bmp-rle8.bmp', 1, 0.002], // RLE8: what ImageMagick writes for a grey image (bmp-ts decodes it to garbage)
    ['2-bmp-8bit.bmp', 2, 0.002],
    ['7-bmp-os2.bmp', 7, 0.002], // 12-byte OS/2 header (bmp-ts refuses it)
    ['3-bmp-4bit.bmp', 3, 0.02], // 16 colours
    ['8-bmp-rgb565.bmp', 8, 0.02], // 5-6-5 bit fields
    ['5-bmp-1bit.bmp', 5, 0.1], // thresholded
  ])('%s', async (file, digit, tolerance) => {
    expect(grayDiff(await decodeToGray(fx(file), ANY_SIZE), await darkDigit(digit))).toBeLessThan(tolerance);
  });

  it('32-bit with an alpha mask: alpha is the digit (bmp-ts drops it)', async () => {
    const img = await decodeToRgba(fx('6-bmp-32-alpha.bmp'), ANY_SIZE);
    const ink = (await darkDigit(6)).data;
    for (let i = 0; i < ink.length; i++) expect(Math.abs(img.data[i * 4 + 3]! / 255 - (1 - ink[i]!))).toBeLessThan(0.005);
  });

  it('top-down rows (negative height) read the same as bottom-up', async () => {
    const bottomUp = fx('1-bmp-24.bmp');
    const stride = Math.ceil((28 * 24) / 32) * 4;
    const rows = Array.from({ length: 28 }, (_, r) => bottomUp.subarray(54 + r * stride, 54 + (r + 1) * stride));
    const topDown = Buffer.concat([bottomUp.subarray(0, 54), ...rows.reverse()]);
    topDown.writeInt32LE(-28, 22);
    expect(await decodeToRgba(topDown, ANY_SIZE)).toEqual(await decodeToRgba(bottomUp, ANY_SIZE));
  });
});

describe('BMP pixel layouts', () => {
  const palette = Array.from({ length: 16 }, (_, i) => [i * 16, 0, 0]);

  it('4-bit palette, rows padded to 4 bytes, bottom-up', async () => {
    const img = await decodeToRgba(bmp({ width: 3, height: 2, bits: 4, palette, pixels: [0x12, 0x30, 0, 0, 0x45, 0x60, 0, 0] }), ANY_SIZE);
    expect(reds(img)).toEqual([
      [64, 80, 96],
      [16, 32, 48],
    ]);
  });

  it('RLE4: runs of two alternating indices, absolute runs, line ends, end of bitmap', async () => {
    // Bottom row: a run of 5 pixels alternating 1 and 2; top row: an absolute run 3 4 5 6 7.
    const pixels = [5, 0x12, 0, 0, 0, 5, 0x34, 0x56, 0x70, 0, 0, 0, 0, 1];
    const img = await decodeToRgba(bmp({ width: 5, height: 2, bits: 4, compression: 2, palette, pixels }), ANY_SIZE);
    expect(reds(img)).toEqual([
      [48, 64, 80, 96, 112],
      [16, 32, 16, 32, 16],
    ]);
  });

  it('RLE8: a delta skips pixels, which stay transparent', async () => {
    const pal = Array.from({ length: 4 }, (_, i) => [i * 60, 0, 0]);
    // Bottom row: 2 x index 1, then move right by 1, then 1 x index 3; end of bitmap (the top row is never painted).
    const pixels = [2, 1, 0, 2, 1, 0, 1, 3, 0, 1];
    const img = await decodeToRgba(bmp({ width: 4, height: 2, bits: 8, compression: 1, palette: pal, pixels }), ANY_SIZE);
    expect(reds(img)[1]).toEqual([60, 60, 0, 180]);
    expect(Array.from({ length: 8 }, (_, i) => img.data[i * 4 + 3])).toEqual([0, 0, 0, 0, 255, 255, 0, 255]);
  });

  it('an alpha mask gives alpha, unless it is zero everywhere, which means opaque (as browsers read it)', async () => {
    const masks = [0xff0000, 0xff00, 0xff, 0xff000000]; // BI_ALPHABITFIELDS: four masks after the header
    const twoPixels = (a1: number, a2: number) =>
      bmp({ width: 2, height: 1, bits: 32, compression: 6, masks, pixels: [0x30, 0x20, 0x10, a1, 3, 2, 1, a2] });
    expect(Array.from((await decodeToRgba(twoPixels(0x80, 0), ANY_SIZE)).data)).toEqual([0x10, 0x20, 0x30, 0x80, 1, 2, 3, 0]);
    expect(Array.from((await decodeToRgba(twoPixels(0, 0), ANY_SIZE)).data)).toEqual([0x10, 0x20, 0x30, 255, 1, 2, 3, 255]);
  });

  it('a palette index past the palette is black', async () => {
    const img = await decodeToRgba(bmp({ width: 2, height: 1, bits: 8, palette: [[255, 255, 255]], pixels: [0, 7, 0, 0] }), ANY_SIZE);
    expect(Array.from(img.data)).toEqual([255, 255, 255, 255, 0, 0, 0, 255]);
  });
});

describe('BMP damage and unsupported variants', () => {
  it('pixel data cut short: 400', async () => {
    const full = fx('1-bmp-24.bmp');
    expect(await problem(full.subarray(0, full.length - 100))).toBeInstanceOf(UndecodableImage);
    // 3 pixels of 24 bits: rows of 9 bytes padded to 12. Only the last row's padding missing is
    // accepted, as other readers do.
    const row = (v: number) => [...Array<number>(9).fill(v), 0, 0, 0];
    const padded = bmp({ width: 3, height: 2, bits: 24, pixels: [...row(50), ...row(90)] });
    await expect(decodeToGray(padded.subarray(0, padded.length - 3), ANY_SIZE)).resolves.toBeDefined();
    expect(await problem(padded.subarray(0, padded.length - 4))).toBeInstanceOf(UndecodableImage);
  });

  it('RLE data without its end: 400', async () => {
    const rle = fx('1-bmp-rle8.bmp');
    expect(await problem(rle.subarray(0, rle.length - 60))).toBeInstanceOf(UndecodableImage);
  });

  it.each([
    [4, 'embedded JPEG data'],
    [5, 'embedded PNG data'],
  ])('compression %i: 415 naming it', async (compression, what) => {
    const b = bmp({ width: 8, height: 8, bits: 0, compression, pixels: [0xff, 0xd8, 0xff, 0xd9] });
    const err = await problem(b);
    expect(err).toBeInstanceOf(UnsupportedImage);
    expect((err as UnsupportedImage).detail).toBe(`BMP with ${what} is not supported; send one of: ${ACCEPTED_TEXT}.`);
  });
});
