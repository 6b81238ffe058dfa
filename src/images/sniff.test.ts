import { TEST_DECODER, TEST_LIMITS, ACCEPTED_TEXT } from '../../test/support/format-fixtures';
import { deflateSync } from 'node:zlib';
import { ImageTooLarge, ProblemError, UndecodableImage, UnsupportedImage, UnusableImage } from '../errors/errors';
import { decodeToGray } from './decode';
import { acceptedFormats } from './formats';
import { heifClaiming, webpClaiming } from '../../test/support/container-bytes';
import { sniffImage } from './sniff';
import { pngChunk } from '../../test/support/png-bytes';

/** A well-formed grayscale PNG header (correct CRCs) declaring width x height, with `idat` as image data. */
function pngWithHeader(width: number, height: number, idat: Uint8Array = deflateSync(Buffer.alloc(0))): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

async function rejection(bytes: Uint8Array): Promise<ProblemError> {
  try {
    await decodeToGray(bytes, TEST_LIMITS);
  } catch (err) {
    if (err instanceof ProblemError) return err;
    throw err;
  }
  throw new Error('expected the image to be refused');
}

describe('sniffImage: format from the magic bytes, size from the header', () => {
  it('refuses an empty upload with 415 naming the accepted formats', async () => {
    const err = await rejection(new Uint8Array(0));
    expect(err).toBeInstanceOf(UnsupportedImage);
    expect(err.status).toBe(415);
    expect(err.detail).toMatch(/empty/);
    expect(err.detail).toContain(`send one of: ${ACCEPTED_TEXT}.`);
    expect(err.extensions).toEqual({ acceptedFormats: acceptedFormats(TEST_DECODER) });
  });

  it('recognises WebP, AVIF (also as a compatible brand of "mif1") and HEIC by their magic and brands', () => {
    // Some AVIF encoders write major brand "mif1" and list "avif" only among the compatible brands.
    const mif1Avif = Buffer.from(heifClaiming(30, 20, 'avif'));
    mif1Avif.write('mif1', 8, 'latin1');
    expect(sniffImage(webpClaiming(30, 20), 'sharp')).toEqual({ format: 'webp', width: 30, height: 20 });
    expect(sniffImage(heifClaiming(30, 20, 'avif'), 'sharp')).toEqual({ format: 'avif', width: 30, height: 20 });
    expect(sniffImage(mif1Avif, 'sharp')).toEqual({ format: 'avif', width: 30, height: 20 });
    expect(sniffImage(heifClaiming(30, 20), 'jimp')).toEqual({ format: 'heic', width: 30, height: 20 });
  });

  it('on the jimp decoder, refuses WebP and AVIF with 415 saying which decoder reads them', () => {
    for (const [label, bytes] of [['WEBP', webpClaiming(30, 20)], ['AVIF', heifClaiming(30, 20, 'avif')]] as const) {
      let err: unknown;
      try {
        sniffImage(bytes, 'jimp');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnsupportedImage);
      expect((err as UnsupportedImage).detail).toBe(
        `${label} is not supported by this server's image decoder (jimp; IMAGE_DECODER=sharp reads it); send one of: PNG, JPEG, HEIC/HEIF, GIF, TIFF, BMP.`,
      );
      expect((err as UnsupportedImage).extensions).toEqual({ acceptedFormats: ['png', 'jpeg', 'heic', 'gif', 'tiff', 'bmp'] });
    }
  });

  it('refuses text named .png with 415 saying it is text', async () => {
    for (const text of ['hello, this is not a picture\n', 'BMW 320d, 2011, 150000 km']) {
      const err = await rejection(Buffer.from(text));
      expect(err).toBeInstanceOf(UnsupportedImage);
      expect(err.detail).toMatch(/text, not an image/);
    }
  });

  it.each([
    ['SVG', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>')],
    ['PSD', Buffer.concat([Buffer.from('8BPS'), Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 10, 0, 0, 0, 10, 0, 8, 0, 3])])],
    ['ICO', Buffer.from([0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0, 0, 0, 0, 0, 22, 0, 0, 0])],
    ['A video (MP4/QuickTime)', Buffer.concat([Buffer.from([0, 0, 0, 0x14]), Buffer.from('ftypqt  \0\0\0\0qt  '), Buffer.alloc(8)])],
    ['PDF', Buffer.from('%PDF-1.7\n%\xc7\xec\x8f\xa2\n', 'latin1')],
    ['HTML (a web page, not an image)', Buffer.from('<!DOCTYPE html>\n<html><body><img src="digit.png"></body></html>')],
    ['BigTIFF', Buffer.from([0x49, 0x49, 0x2b, 0x00, 8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0])],
  ])('refuses %s with 415 naming the detected format and the accepted ones', async (name, bytes) => {
    const err = await rejection(bytes);
    expect(err).toBeInstanceOf(UnsupportedImage);
    expect(err.status).toBe(415);
    expect(err.detail).toContain(name);
    expect(err.detail).toBe(`${name} is not supported; send one of: ${ACCEPTED_TEXT}.`);
  });

  it('reads the size of a pixel bomb from its header and refuses it with 413 before decoding', async () => {
    const bomb = pngWithHeader(100_000, 100_000);
    expect(bomb.length).toBeLessThan(100);
    expect(sniffImage(bomb, TEST_DECODER)).toEqual({ format: 'png', width: 100_000, height: 100_000 });
    const before = process.memoryUsage().arrayBuffers;
    const started = Date.now();
    const err = await rejection(bomb);
    expect(err).toBeInstanceOf(ImageTooLarge);
    expect(err.status).toBe(413);
    expect(err.extensions).toEqual({ width: 100_000, height: 100_000, maxPixels: 40_000_000 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * 2 ** 20);
  });

  it('honours a custom maxPixels', async () => {
    const png = pngWithHeader(100, 100, deflateSync(Buffer.alloc(100 * 101)));
    await expect(decodeToGray(png, { maxPixels: 9_999, minSide: 8 })).rejects.toBeInstanceOf(ImageTooLarge);
    await expect(decodeToGray(png, { maxPixels: 10_000, minSide: 8 })).resolves.toMatchObject({ width: 100, height: 100 });
  });

  it('refuses a 1x1 image with 422, and one side under minSide too', async () => {
    const one = pngWithHeader(1, 1, deflateSync(Buffer.from([0, 0])));
    const err = await rejection(one);
    expect(err).toBeInstanceOf(UnusableImage);
    expect(err.status).toBe(422);
    expect(err.detail).toMatch(/1x1.*at least 8/);
    await expect(decodeToGray(pngWithHeader(200, 7), TEST_LIMITS)).rejects.toBeInstanceOf(UnusableImage);
  });

  it('calls a recognised format with a cut-off header undecodable (400)', async () => {
    for (const bytes of [
      pngWithHeader(10, 10).subarray(0, 20),
      Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
      Buffer.from('GIF89a\x10'),
      Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]),
      ...[jpegClaiming(0xc2, 64, 64), gifClaiming(64, 64, 64, 64), bmpClaiming(64, 64), tiffClaiming(64, 64)].map((b) => b.subarray(0, 12)),
    ]) {
      const err = await rejection(bytes);
      expect(err).toBeInstanceOf(UndecodableImage);
      expect(err.status).toBe(400);
      expect(err.detail).toMatch(/header is truncated or corrupt/);
    }
  });
});

/** A JPEG that is nothing but a frame header (SOF0 baseline, SOF2 progressive) declaring width x height. */
function jpegClaiming(sof: number, width: number, height: number): Buffer {
  const frame = Buffer.from([0xff, sof, 0, 17, 8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  frame.writeUInt16BE(height, 5);
  frame.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), frame, Buffer.from([0xff, 0xd9])]);
}

/** A GIF whose logical screen is screenW x screenH and whose one (empty) frame is frameW x frameH. */
function gifClaiming(screenW: number, screenH: number, frameW: number, frameH: number): Buffer {
  const b = Buffer.from('GIF89a\0\0\0\0\0\0\0\x2c\0\0\0\0\0\0\0\0\0\x02\0\x3b', 'latin1');
  b.writeUInt16LE(screenW, 6);
  b.writeUInt16LE(screenH, 8);
  b.writeUInt16LE(frameW, 18);
  b.writeUInt16LE(frameH, 20);
  return b;
}

/** A 24-bit BMP (40-byte header) declaring width x height, with 8 bytes of pixels. */
function bmpClaiming(width: number, height: number): Buffer {
  const b = Buffer.alloc(62);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  return b;
}

/** A little-endian greyscale TIFF declaring width x height in one strip of 1 byte. */
function tiffClaiming(width: number, height: number): Buffer {
  const entries: [tag: number, type: number, value: number][] = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, 8],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 8 + 2 + 9 * 12 + 4],
    [277, 3, 1],
    [278, 4, height],
    [279, 4, 1],
  ];
  const b = Buffer.alloc(8 + 2 + entries.length * 12 + 4 + 1);
  b.write('II*\0', 0, 'latin1');
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    b.writeUInt16LE(tag, at);
    b.writeUInt16LE(type, at + 2);
    b.writeUInt32LE(1, at + 4);
    if (type === 3) b.writeUInt16LE(value, at + 8);
    else b.writeUInt32LE(value, at + 8);
  });
  return b;
}

describe('every accepted format: the pixel count comes from the header, before any decoding', () => {
  const huge = 60_000;
  it.each<[string, Buffer, string]>([
    ['PNG', pngWithHeader(huge, huge), 'png'],
    ['baseline JPEG (SOF0)', jpegClaiming(0xc0, huge, huge), 'jpeg'],
    ['progressive JPEG (SOF2)', jpegClaiming(0xc2, huge, huge), 'jpeg'],
    ['GIF: the logical screen', gifClaiming(huge, huge, 1, 1), 'gif'],
    ['GIF: a first frame larger than the logical screen', gifClaiming(1, 1, huge, huge), 'gif'],
    ['BMP', bmpClaiming(huge, huge), 'bmp'],
    ['BMP stored top-down (negative height)', bmpClaiming(huge, -huge), 'bmp'],
    ['TIFF', tiffClaiming(huge, huge), 'tiff'],
    ['HEIC', heifClaiming(huge, huge), 'heic'],
    ...(TEST_DECODER === 'sharp' ? [['AVIF', heifClaiming(huge, huge, 'avif'), 'avif'] as [string, Buffer, string]] : []),
  ])('%s: 413 from a tiny header, nothing allocated', async (_what, bomb, format) => {
    expect(bomb.length).toBeLessThan(200);
    expect(sniffImage(bomb, TEST_DECODER)).toMatchObject({ format, width: huge, height: huge });
    const before = process.memoryUsage().arrayBuffers;
    const started = Date.now();
    const err = await rejection(bomb);
    expect(err).toBeInstanceOf(ImageTooLarge);
    expect(err.extensions).toEqual({ width: huge, height: huge, maxPixels: 40_000_000 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * 2 ** 20);
  });

  it('a HEIC declaring 100,000 x 100,000 and a WebP declaring 16,384 x 16,384: 413 before decoding', async () => {
    const heic = await rejection(heifClaiming(100_000, 100_000));
    expect(heic).toBeInstanceOf(ImageTooLarge);
    expect(heic.extensions).toEqual({ width: 100_000, height: 100_000, maxPixels: 40_000_000 });
    if (TEST_DECODER === 'sharp') {
      expect(await rejection(webpClaiming(16_384, 16_384))).toBeInstanceOf(ImageTooLarge);
    }
  });

  it('the same headers at a small size pass the limits (and then fail on their missing pixels, as 400)', async () => {
    const containers = TEST_DECODER === 'sharp' ? [webpClaiming(64, 64), heifClaiming(64, 64, 'avif')] : [];
    // Not TIFF: libvips (failOn 'none') and utif2 both decode an uncompressed strip shorter than its
    // rows as far as it goes.
    for (const small of [jpegClaiming(0xc2, 64, 64), bmpClaiming(64, 64), heifClaiming(64, 64), ...containers]) {
      const err = await rejection(small).catch((e: Error) => e);
      expect([small.subarray(0, 4).toString('latin1'), err]).toEqual([small.subarray(0, 4).toString('latin1'), expect.any(UndecodableImage)]);
    }
  });
});
