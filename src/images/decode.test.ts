import { TEST_LIMITS } from '../../test/support/format-fixtures';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Jimp } from 'jimp';
import { ProblemError, UndecodableImage } from '../errors/errors';
import { codecFor } from './codec-rule';
import { decodeToGray, decodeToRgba } from './decode';
import type { AcceptedImageFormat } from './formats';
import { TEST_DECODER } from '../../test/support/format-fixtures';

type Mime = 'image/png' | 'image/jpeg' | 'image/bmp' | 'image/gif' | 'image/tiff';

/** A w x h jimp image whose pixel (x, y) is rgba(x, y) (0..255 each). */
function makeImage(w: number, h: number, rgba: (x: number, y: number) => [number, number, number, number]) {
  const img = new Jimp({ width: w, height: h });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) img.bitmap.data.set(rgba(x, y), (y * w + x) * 4);
  }
  return img;
}

async function encode(img: ReturnType<typeof makeImage>, mime: Mime): Promise<Buffer> {
  return mime === 'image/jpeg' ? img.getBuffer(mime, { quality: 95 }) : img.getBuffer(mime);
}

/** 32x24: left half black, right half white, bottom quarter mid-gray (128) across. */
const pattern = (x: number, y: number): [number, number, number, number] => {
  const v = y >= 18 ? 128 : x < 16 ? 0 : 255;
  return [v, v, v, 255];
};

const gray = (img: { width: number; data: Float32Array }, x: number, y: number): number => img.data[y * img.width + x]!;

/** Mean gray over the rectangle [x0, x1) x [y0, y1). */
function mean(img: { width: number; data: Float32Array }, x0: number, y0: number, x1: number, y1: number): number {
  let s = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += gray(img, x, y);
  return s / ((x1 - x0) * (y1 - y0));
}

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');


describe('decodeToGray: formats', () => {
  it.each<[Mime, number]>([
    ['image/png', 0.002],
    ['image/bmp', 0.002],
    ['image/gif', 0.002],
    ['image/tiff', 0.002],
    ['image/jpeg', 0.03],
  ])('decodes %s to gray 0..1 with 0 = black (tolerance %d)', async (mime, tolerance) => {
    const bytes = await encode(makeImage(32, 24, pattern), mime);
    const img = await decodeToGray(bytes, TEST_LIMITS);
    expect([img.width, img.height, img.data.length]).toEqual([32, 24, 32 * 24]);
    expect(img.data).toBeInstanceOf(Float32Array);
    // Away from the edges, where JPEG rings.
    expect(Math.abs(mean(img, 2, 2, 12, 14) - 0)).toBeLessThan(tolerance);
    expect(Math.abs(mean(img, 20, 2, 30, 14) - 1)).toBeLessThan(tolerance);
    expect(Math.abs(mean(img, 2, 20, 30, 24) - 128 / 255)).toBeLessThan(tolerance);
  });

  it('converts colour with ITU-R 601 luma', async () => {
    const colours: [number, number, number][] = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [40, 120, 200],
    ];
    const img = makeImage(8 * colours.length, 8, (x) => [...colours[Math.floor(x / 8)]!, 255]);
    const decoded = await decodeToGray(await encode(img, 'image/png'), TEST_LIMITS);
    colours.forEach(([r, g, b], i) => expect(gray(decoded, i * 8 + 4, 4)).toBeCloseTo((0.299 * r + 0.587 * g + 0.114 * b) / 255, 5));
  });

  it('flattens transparency onto white', async () => {
    // Black ink at alpha 0 (invisible), 128 (half) and 255 (opaque); a transparent background.
    const img = makeImage(24, 8, (x) => [0, 0, 0, x < 8 ? 0 : x < 16 ? 128 : 255]);
    const decoded = await decodeToGray(await encode(img, 'image/png'), TEST_LIMITS);
    expect(gray(decoded, 4, 4)).toBeCloseTo(1, 5);
    expect(gray(decoded, 12, 4)).toBeCloseTo(1 - 128 / 255, 5);
    expect(gray(decoded, 20, 4)).toBeCloseTo(0, 5);
  });

  it('flattens a transparent GIF background onto white', async () => {
    const img = makeImage(16, 8, (x) => (x < 8 ? [0, 0, 0, 0] : [0, 0, 0, 255]));
    const decoded = await decodeToGray(await encode(img, 'image/gif'), TEST_LIMITS);
    expect(gray(decoded, 3, 3)).toBe(1);
    expect(gray(decoded, 12, 3)).toBe(0);
  });
});

/** Inserts an APP1 EXIF segment carrying only IFD0/Orientation right after SOI. */
function withExifOrientation(jpeg: Buffer, orientation: number, littleEndian: boolean): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  const u16 = (v: number, at: number) => (littleEndian ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (littleEndian ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  tiff.write(littleEndian ? 'II' : 'MM', 0, 'ascii');
  u16(42, 2);
  u32(8, 4); // IFD0 offset
  u16(1, 8); // one entry
  u16(0x0112, 10); // Orientation
  u16(3, 12); // SHORT
  u32(1, 14); // count
  u16(orientation, 18); // value, left-justified in the 4-byte field
  u32(0, 22); // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

describe('decodeToGray: EXIF orientation', () => {
  // Stored 40 wide x 20 high, white with a black 8x8 block in the top-left corner.
  const stored = () => makeImage(40, 20, (x, y) => (x < 8 && y < 8 ? [0, 0, 0, 255] : [255, 255, 255, 255]));

  it('turns orientation 6 (camera rotated 90 degrees clockwise) upright: the block goes top-right', async () => {
    const jpeg = withExifOrientation(await encode(stored(), 'image/jpeg'), 6, false);
    const img = await decodeToGray(jpeg, TEST_LIMITS);
    expect([img.width, img.height]).toEqual([20, 40]);
    expect(mean(img, 13, 1, 19, 7)).toBeLessThan(0.1);
    expect(mean(img, 1, 1, 7, 7)).toBeGreaterThan(0.9);
  });

  it('turns orientation 8 (90 degrees counter-clockwise) upright: the block goes bottom-left', async () => {
    const jpeg = withExifOrientation(await encode(stored(), 'image/jpeg'), 8, true);
    const img = await decodeToGray(jpeg, TEST_LIMITS);
    expect([img.width, img.height]).toEqual([20, 40]);
    expect(mean(img, 1, 33, 7, 39)).toBeLessThan(0.1);
    expect(mean(img, 1, 1, 7, 7)).toBeGreaterThan(0.9);
  });

  it('handles orientation 3 (upside down) and ignores orientation 1', async () => {
    const upsideDown = await decodeToGray(withExifOrientation(await encode(stored(), 'image/jpeg'), 3, true), TEST_LIMITS);
    expect([upsideDown.width, upsideDown.height]).toEqual([40, 20]);
    expect(mean(upsideDown, 33, 13, 39, 19)).toBeLessThan(0.1);
    const upright = await decodeToGray(withExifOrientation(await encode(stored(), 'image/jpeg'), 1, true), TEST_LIMITS);
    expect(mean(upright, 1, 1, 7, 7)).toBeLessThan(0.1);
  });
});

describe('decodeToGray: truncated and corrupt files give 400', () => {
  const busy = (x: number, y: number): [number, number, number, number] => {
    const v = (x * 37 + y * 91 + ((x * y) % 13) * 17) % 256;
    return [v, 255 - v, (v * 3) % 256, 255];
  };

  /**
   * The failOn choice: libvips runs with failOn 'none', so a file whose tail is missing decodes as far
   * as it goes (an upload cut short still classifies); the JavaScript codecs refuse it (400).
   */
  const tolerant = (mime: Mime, pixels: number) =>
    codecFor(mime.slice(6) as AcceptedImageFormat, pixels, TEST_DECODER) === 'libvips' || (mime === 'image/tiff' && TEST_DECODER === 'jimp');

  it.each<Mime>(['image/png', 'image/jpeg', 'image/bmp', 'image/gif', 'image/tiff'])('%s cut in half: what is there (libvips), else a 400', async (mime) => {
    const bytes = await encode(makeImage(64, 48, busy), mime);
    const result = await decodeToGray(bytes.subarray(0, bytes.length >> 1), TEST_LIMITS).catch((e: unknown) => e);
    if (tolerant(mime, 64 * 48)) {
      expect(result).toMatchObject({ width: 64, height: 48 });
    } else {
      expect(result).toBeInstanceOf(UndecodableImage);
      expect((result as UndecodableImage).status).toBe(400);
    }
  });

  it('a real JPEG photo with its second half missing: decoded by libvips, a 400 from jpeg-js; a cut MNIST PNG is a 400', async () => {
    const photo = readFileSync(path.join(FIXTURES, 'photos', 'dog.jpg'));
    await expect(decodeToGray(photo, TEST_LIMITS)).resolves.toBeDefined();
    const cut = decodeToGray(photo.subarray(0, photo.length >> 1), TEST_LIMITS);
    if (TEST_DECODER === 'sharp') await expect(cut).resolves.toBeDefined();
    else await expect(cut).rejects.toBeInstanceOf(UndecodableImage);
    const digit = readFileSync(path.join(FIXTURES, 'mnist', '3.png'));
    await expect(decodeToGray(digit.subarray(0, digit.length >> 1), TEST_LIMITS)).rejects.toBeInstanceOf(UndecodableImage);
  });

  it('garbage behind a valid signature is a 400 on either decoder', async () => {
    let seed = 99;
    const noise = Buffer.from(Array.from({ length: 4000 }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24)));
    for (const magic of [
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.from([0xff, 0xd8, 0xff]),
      Buffer.from('GIF89a'),
      Buffer.from('II*\0'),
      Buffer.concat([Buffer.from('RIFF'), Buffer.from([0xa0, 0x0f, 0, 0]), Buffer.from('WEBP')]),
      Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic'), Buffer.alloc(4), Buffer.from('mif1heic')]),
    ]) {
      const result = await decodeToGray(Buffer.concat([magic, noise]), TEST_LIMITS).catch((e: unknown) => e);
      expect([magic.toString('latin1'), (result as ProblemError).status]).toEqual([magic.toString('latin1'), magic[0] === 0x52 && TEST_DECODER === 'jimp' ? 415 : 400]);
    }
  });

  it('random damage (flipped bytes, cuts) only ever yields an image or a typed problem', async () => {
    // A damaged file's decoder may report with console.log; keep the test output clean.
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    let seed = 12345;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (const mime of ['image/png', 'image/jpeg', 'image/bmp', 'image/gif', 'image/tiff'] as Mime[]) {
      const original = await encode(makeImage(40, 30, busy), mime);
      for (let trial = 0; trial < 40; trial++) {
        const bytes = Buffer.from(original.subarray(0, trial % 4 === 0 ? Math.floor(random() * original.length) : original.length));
        for (let k = 0; k < 1 + (trial % 5); k++) if (bytes.length > 0) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        try {
          const img = await decodeToGray(bytes, TEST_LIMITS);
          expect(img.data.length).toBe(img.width * img.height);
        } catch (err) {
          expect(err).toBeInstanceOf(ProblemError);
          expect([400, 413, 415, 422]).toContain((err as ProblemError).status);
        }
      }
    }
    log.mockRestore();
  });
});

describe('decodeToRgba: random damage to every fixture of test/fixtures/formats', () => {
  it('only ever yields an image or a typed 4xx problem, never another error', async () => {
    // A damaged file's decoder may report with console.log; keep the test output clean.
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    let seed = 20250601;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const dir = path.join(FIXTURES, 'formats');
    for (const name of readdirSync(dir).sort()) {
      const original = readFileSync(path.join(dir, name));
      for (let trial = 0; trial < 30; trial++) {
        const cut = trial % 3 === 0 ? Math.floor(random() * original.length) : original.length;
        const bytes = Buffer.from(original.subarray(0, cut));
        for (let k = 0; k < 1 + (trial % 4) && bytes.length > 0; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        try {
          const img = await decodeToRgba(bytes, TEST_LIMITS);
          expect(img.data.length).toBe(img.width * img.height * 4);
        } catch (err) {
          if (!(err instanceof ProblemError)) throw new Error(`${name}, trial ${trial}: ${String(err)}`);
          expect([400, 413, 415, 422]).toContain(err.status);
        }
      }
    }
    log.mockRestore();
  }, 150_000); // on the jimp path, each damaged GIF or TIFF that hangs omggif or utif2 costs a decode bound
});
