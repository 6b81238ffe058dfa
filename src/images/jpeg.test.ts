import { TEST_DECODER, ACCEPTED_TEXT } from '../../test/support/format-fixtures';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { UnsupportedImage } from '../errors/errors';
import { decodeToGray, decodeToRgba, type RgbaImage } from './decode';
import { rgbaToGray } from './gray';
import { jimpDecode } from './jimp-codecs';
import { isYcbcr, readJpegInfo, type JpegInfo } from './jpeg';
import { sniffImage } from './sniff';

// Fixtures: test/fixtures/formats/, made by scripts/make-format-fixtures.sh (see SOURCES.md there).
const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');
const fx = (name: string) => readFileSync(path.join(FIXTURES, 'formats', name));
const ANY_SIZE = { maxPixels: 40_000_000, minSide: 1, decoder: TEST_DECODER };

/** The colour chart: 8x8 patches, left to right. */
const PATCHES: [number, number, number][] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [40, 120, 200],
  [255, 255, 255],
  [0, 0, 0],
  [128, 128, 128],
  [250, 200, 40],
];

/** The RGB at the centre of each patch. */
const patchColours = (img: RgbaImage) =>
  PATCHES.map((_, i) => {
    const at = (4 * img.width + i * 8 + 4) * 4;
    return Array.from(img.data.subarray(at, at + 3));
  });

function expectColoursNear(img: RgbaImage, tolerance: number): void {
  patchColours(img).forEach((rgb, i) => rgb.forEach((v, c) => expect(Math.abs(v - PATCHES[i]![c]!)).toBeLessThanOrEqual(tolerance)));
}

/** Mean absolute difference of two grey images of the same size, 0..1. */
function grayDiff(a: { data: Float32Array }, b: { data: Float32Array }): number {
  expect(a.data.length).toBe(b.data.length);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i]! - b.data[i]!);
  return s / a.data.length;
}

/** The JPEG without its marker segments of type `marker` (0xee = Adobe APP14). */
function withoutSegment(jpeg: Buffer, marker: number): Buffer {
  const parts: Buffer[] = [jpeg.subarray(0, 2)];
  let at = 2;
  while (jpeg[at + 1] !== 0xda) {
    const end = at + 2 + jpeg.readUInt16BE(at + 2);
    if (jpeg[at + 1] !== marker) parts.push(jpeg.subarray(at, end));
    at = end;
  }
  parts.push(jpeg.subarray(at));
  return Buffer.concat(parts);
}

/** Offset of the first SOFn marker (0xffc0-0xffcf except DHT 0xffc4). */
const sofAt = (jpeg: Buffer) => jpeg.findIndex((v, i) => v === 0xff && (jpeg[i + 1]! & 0xf0) === 0xc0 && jpeg[i + 1] !== 0xc4);

describe('JPEG colour models', () => {
  it('the PNG colour chart is the reference', async () => {
    expectColoursNear(await decodeToRgba(fx('patches.png'), ANY_SIZE), 0);
  });

  it('reads Adobe CMYK (APP14 transform 0, inverted as Photoshop writes it) to the right RGB', async () => {
    const jpeg = fx('patches-cmyk.jpg');
    expect(readJpegInfo(jpeg)).toMatchObject({ adobeTransform: 0 });
    expect(readJpegInfo(jpeg).components).toHaveLength(4);
    expectColoursNear(await decodeToRgba(jpeg, ANY_SIZE), 6);
  });

  it('reads YCCK (APP14 transform 2, what libjpeg and ImageMagick write for CMYK) to the right RGB', async () => {
    const jpeg = fx('patches-ycck.jpg');
    expect(readJpegInfo(jpeg)).toMatchObject({ adobeTransform: 2 });
    expect(readJpegInfo(jpeg).components).toHaveLength(4);
    expectColoursNear(await decodeToRgba(jpeg, ANY_SIZE), 6);
  });

  it('reads a 4-component JPEG without an Adobe segment as Adobe CMYK (jpeg-js alone refuses it)', async () => {
    const bare = withoutSegment(fx('patches-cmyk.jpg'), 0xee);
    expect(readJpegInfo(bare).adobeTransform).toBeUndefined();
    await expect(jimpDecode('jpeg', bare)).rejects.toThrow(/4 components/);
    expect(await decodeToRgba(bare, ANY_SIZE)).toEqual(await decodeToRgba(fx('patches-cmyk.jpg'), ANY_SIZE));
  });

  it('reads RGB stored without YCbCr (Adobe transform 0, three components), which jpeg-js alone converts wrongly', async () => {
    const jpeg = fx('patches-rgb.jpg');
    expect(readJpegInfo(jpeg)).toMatchObject({ adobeTransform: 0, jfif: false });
    expectColoursNear(await decodeToRgba(jpeg, ANY_SIZE), 6);
    const [red] = patchColours(await jimpDecode('jpeg', jpeg));
    expect(red![1]).toBeGreaterThan(100); // jpeg-js's YCbCr conversion of R=255, G=0, B=0
  });

  it('reads three components named R, G, B with neither JFIF nor Adobe segment as RGB (libjpeg rule)', async () => {
    const bare = withoutSegment(fx('patches-rgb.jpg'), 0xee);
    expect(readJpegInfo(bare)).toMatchObject({ components: [0x52, 0x47, 0x42], jfif: false, adobeTransform: undefined });
    expectColoursNear(await decodeToRgba(bare, ANY_SIZE), 6);
  });

  it('decides YCbCr vs RGB for three components as libjpeg does', () => {
    const info = (over: Partial<JpegInfo>): JpegInfo => ({
      sof: 0xc0,
      precision: 8,
      width: 8,
      height: 8,
      components: [1, 2, 3],
      jfif: false,
      orientation: 1,
      ...over,
    });
    expect(isYcbcr(info({}))).toBe(true);
    expect(isYcbcr(info({ jfif: true, components: [0x52, 0x47, 0x42] }))).toBe(true);
    expect(isYcbcr(info({ components: [0x52, 0x47, 0x42] }))).toBe(false);
    expect(isYcbcr(info({ adobeTransform: 0 }))).toBe(false);
    expect(isYcbcr(info({ adobeTransform: 1, components: [0x52, 0x47, 0x42] }))).toBe(true);
  });

  it('reads greyscale, CMYK and YCCK digits as the same dark-on-light picture', async () => {
    const dark = async (d: number) => {
      const g = await decodeToGray(readFileSync(path.join(FIXTURES, 'mnist', `${d}.png`)), ANY_SIZE);
      return { ...g, data: g.data.map((v) => 1 - v) };
    };
    expect(grayDiff(await decodeToGray(fx('6-jpeg-gray.jpg'), ANY_SIZE), await dark(6))).toBeLessThan(0.03);
    expect(grayDiff(await decodeToGray(fx('8-jpeg-ycck.jpg'), ANY_SIZE), await dark(8))).toBeLessThan(0.03);
    // The CMYK digit is the same navy-on-cream picture as the CMYK TIFF (decoded by another path).
    const cmykTiff = await decodeToGray(fx('5-tiff-cmyk.tif'), ANY_SIZE);
    expect(grayDiff(await decodeToGray(fx('5-jpeg-cmyk.jpg'), ANY_SIZE), cmykTiff)).toBeLessThan(0.03);
  });
});

describe('JPEG coding variants', () => {
  it('decodes progressive (SOF2) like the lossless PNG of the same picture', async () => {
    expect(readJpegInfo(fx('4-jpeg-progressive.jpg')).sof).toBe(0xc2);
    const png = await decodeToGray(fx('4-png-adam7.png'), ANY_SIZE);
    expect(grayDiff(await decodeToGray(fx('4-jpeg-progressive.jpg'), ANY_SIZE), png)).toBeLessThan(0.03);
  });

  it('decodes restart markers (DRI, RST0-RST7 after every MCU) like the lossless TIFF of the same picture', async () => {
    const jpeg = fx('2-jpeg-restart.jpg');
    const markers = new Set<number>();
    for (let i = 0; i + 1 < jpeg.length; i++) {
      if (jpeg[i] === 0xff && (jpeg[i + 1] === 0xdd || (jpeg[i + 1]! & 0xf8) === 0xd0)) markers.add(jpeg[i + 1]!);
    }
    expect([...markers].sort()).toEqual([0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xdd]);
    const tiff = await decodeToGray(fx('2-tiff-lzw-rgb.tif'), ANY_SIZE);
    expect(grayDiff(await decodeToGray(jpeg, ANY_SIZE), tiff)).toBeLessThan(0.03);
  });

  it.each([
    ['arithmetic coding (SOF9)', fx('1-jpeg-arithmetic.jpg')],
    ['lossless coding (SOF3)', patchSof(fx('6-jpeg-gray.jpg'), (b, at) => (b[at + 1] = 0xc3))],
    ['progressive arithmetic coding (SOF10)', patchSof(fx('6-jpeg-gray.jpg'), (b, at) => (b[at + 1] = 0xca))],
    ['12-bit samples', patchSof(fx('6-jpeg-gray.jpg'), (b, at) => (b[at + 4] = 12))],
  ])('refuses %s with 415 naming it', async (variant, bytes) => {
    const err = await decodeToGray(bytes, ANY_SIZE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedImage);
    expect((err as UnsupportedImage).detail).toBe(`JPEG with ${variant} is not supported; send one of: ${ACCEPTED_TEXT}.`);
  });
});

function patchSof(jpeg: Buffer, patch: (b: Buffer, at: number) => void): Buffer {
  const copy = Buffer.from(jpeg);
  patch(copy, sofAt(copy));
  return copy;
}

describe('JPEG EXIF orientation: all eight', () => {
  // 7-jpeg-exif-<o>.jpg stores the same upright 7 transformed by the inverse of orientation o.
  const upright = () => decodeToGray(fx('7-jpeg-exif-1.jpg'), ANY_SIZE);

  it.each([2, 3, 4, 5, 6, 7, 8])('orientation %i: stored turned, decoded upright', async (o) => {
    const jpeg = fx(`7-jpeg-exif-${o}.jpg`);
    expect(sniffImage(jpeg, TEST_DECODER).orientation).toBe(o);
    const reference = await upright();
    expect(grayDiff(await decodeToGray(jpeg, ANY_SIZE), reference)).toBeLessThan(0.02);
    // Not a test of nothing: the pixels as stored are far from upright.
    expect(grayDiff(rgbaToGray(await jimpDecode('jpeg', jpeg)), reference)).toBeGreaterThan(0.05);
  });

  it('orientation 1 is upright as stored', async () => {
    expect(sniffImage(fx('7-jpeg-exif-1.jpg'), TEST_DECODER).orientation).toBeUndefined();
  });
});
