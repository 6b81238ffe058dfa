import { ACCEPTED_TEXT } from '../support/format-fixtures';
import { acceptedFormats } from '../../src/images';
import { codecFor } from '../../src/images/codec-rule';
import { expectProblem } from '../support/problem';
import { TEST_DECODER } from '../support/format-fixtures';
import { fixture, useTestService } from '../support/service';

// Every file of test/fixtures/formats/ (made by scripts/make-format-fixtures.sh from the MNIST digits
// of test/fixtures/mnist/, see test/fixtures/SOURCES.md). The first character of an accepted file's
// name is the digit it shows.
const ACCEPTED = [
  // JPEG
  '3-jpeg-baseline.jpg',
  '4-jpeg-progressive.jpg',
  '6-jpeg-gray.jpg',
  '5-jpeg-cmyk.jpg',
  '8-jpeg-ycck.jpg',
  '2-jpeg-restart.jpg',
  '9-jpeg-rgb.jpg',
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((o) => `7-jpeg-exif-${o}.jpg`),
  // PNG
  '0-png-gray16.png',
  '1-png-rgb16.png',
  '2-png-graya.png',
  '2-png-graya16.png',
  '3-png-palette.png',
  '3-png-palette-trns.png',
  '4-png-adam7.png',
  '5-png-rgba.png',
  '6-png-1bit.png',
  '7-png-gray-trns.png',
  // GIF
  '9-gif.gif',
  '9-gif-interlaced.gif',
  '8-gif-transparent.gif',
  '4-gif-animated-then-9.gif',
  '6-gif-offset-frame.gif',
  // BMP
  '1-bmp-24.bmp',
  '1-bmp-rle8.bmp',
  '2-bmp-8bit.bmp',
  '3-bmp-4bit.bmp',
  '5-bmp-1bit.bmp',
  '6-bmp-32-alpha.bmp',
  '7-bmp-os2.bmp',
  '8-bmp-rgb565.bmp',
  // TIFF
  '2-tiff-none.tif',
  '2-tiff-lzw-rgb.tif',
  '3-tiff-zip-16.tif',
  '4-tiff-g4.tif',
  '5-tiff-packbits-palette.tif',
  '5-tiff-cmyk.tif',
  '6-tiff-jpeg.tif',
  '7-tiff-tiled.tif',
  '8-tiff-orient6.tif',
  '9-tiff-bigendian.tif',
  '0-tiff-2pages-then-7.tif',
  // HEIC (libheif, on either decoder)
  '7.heic',
];

/** Read by libvips only: accepted with sharp, refused (415) on the jimp path. */
const NATIVE_ONLY = ['7.webp', '7.avif'];

/** Refused uploads, and what the problem detail must call them. */
const REFUSED: [file: string, named: string][] = [
  ['7.svg', 'SVG is not supported'],
  ['7.pdf', 'PDF is not supported'],
  ['7.ico', 'ICO is not supported'],
  ['2-tiff-bigtiff.tif', 'BigTIFF is not supported'],
  ['1-jpeg-arithmetic.jpg', 'JPEG with arithmetic coding (SOF9) is not supported'],
  ['2-tiff-planar.tif', 'TIFF with planar (separate) colour planes is not supported'],
  ['2-tiff-float.tif', 'TIFF with floating-point samples is not supported'],
  ['2-tiff-graya.tif', 'TIFF with greyscale with alpha is not supported'],
  ['2-tiff-jpeg-gray.tif', 'TIFF with JPEG-compressed greyscale is not supported'],
];

const service = useTestService();

const classify = (bytes: Buffer, name: string) => service.request.post('/mnist/classify').attach('file', bytes, name);

describe('POST /mnist/classify reads every accepted format and variant', () => {
  it.each(ACCEPTED)('%s', async (file) => {
    const res = await classify(fixture('formats', file), file);
    expect({ status: res.status, digit: res.body.digit }).toEqual({ status: 200, digit: Number(file[0]) });
  });
});

describe('POST /mnist/classify: WebP and AVIF with sharp; a 415 naming the decoder on the jimp path', () => {
  it.each(NATIVE_ONLY)('%s', async (file) => {
    const res = await classify(fixture('formats', file), file);
    if (TEST_DECODER === 'sharp') {
      expect({ status: res.status, digit: res.body.digit }).toEqual({ status: 200, digit: Number(file[0]) });
    } else {
      expect(expectProblem(res, 415).detail).toMatch(/not supported by this server's image decoder \(jimp; IMAGE_DECODER=sharp reads it\)/);
    }
  });
});

describe('POST /mnist/classify refuses other formats with 415 naming them and the accepted ones', () => {
  it.each(REFUSED)('%s', async (file, named) => {
    const body = expectProblem(await classify(fixture('formats', file), file), 415);
    expect(body.type).toBe('urn:specserve:problem:unsupported-image');
    expect(body.detail).toBe(`${named}; send one of: ${ACCEPTED_TEXT}.`);
    expect(body.acceptedFormats).toEqual([...acceptedFormats(TEST_DECODER)]);
  });
});

describe('POST /mnist/classify: a truncated file of any accepted format is a 400 or what is there, never a 500', () => {
  // Cut inside the image data that is decoded: at 60% for a one-image file, at 30% (inside the first
  // frame or page) for the two-image ones, whose later images are never decoded (see the GIF and TIFF
  // unit tests for a file cut after its first image). libvips runs with failOn 'none' (an upload cut
  // short still classifies) and libheif decodes the tiles present: those answer 200 with what is
  // there, or 400 / 422 when what is there is not enough; the JavaScript codecs answer 400.
  it.each(ACCEPTED.filter((f) => !f.endsWith('.heic')))('%s', async (file) => {
    const bytes = fixture('formats', file);
    const keep = /animated|pages/.test(file) ? 0.3 : 0.6;
    const res = await classify(bytes.subarray(0, Math.floor(bytes.length * keep)), file);
    const formats: Record<string, 'jpeg' | 'png' | 'gif' | 'bmp' | 'tiff'> = { jpg: 'jpeg', png: 'png', gif: 'gif', bmp: 'bmp', tif: 'tiff' };
    const format = formats[file.split('.').pop()!]!;
    const tolerant = codecFor(format, 28 * 28 * 4, TEST_DECODER, { cmyk: /cmyk|ycck/.test(file), partialFrame: /offset/.test(file) }) === 'libvips' || (format === 'tiff' && TEST_DECODER === 'jimp');
    if (tolerant && res.status === 200) expect(res.body.digit).toEqual(expect.any(Number));
    else expect(expectProblem(res, tolerant ? res.status : 400).type).toMatch(/undecodable-image|unusable-image/);
  });
});

describe('POST /mnist/classify: huge dimensions in a small header are a 413 before any decoding', () => {
  /** A fixture with the width and height its header declares replaced (16-bit fields at `at`, `at + 2`). */
  const claiming = (file: string, at: (bytes: Buffer) => number, write: (b: Buffer, at: number) => void) => {
    const bytes = Buffer.from(fixture('formats', file));
    write(bytes, at(bytes));
    return bytes;
  };
  const sof = (marker: number) => (bytes: Buffer) => bytes.indexOf(Buffer.from([0xff, marker])) + 5;
  const be = (b: Buffer, at: number) => (b.writeUInt16BE(60_000, at), b.writeUInt16BE(60_000, at + 2));
  const le = (b: Buffer, at: number) => (b.writeUInt16LE(60_000, at), b.writeUInt16LE(60_000, at + 2));
  const le32 = (b: Buffer, at: number) => (b.writeInt32LE(60_000, at), b.writeInt32LE(-60_000, at + 4));

  it.each([
    ['progressive JPEG (SOF2)', claiming('4-jpeg-progressive.jpg', sof(0xc2), be)],
    ['baseline JPEG (SOF0)', claiming('3-jpeg-baseline.jpg', sof(0xc0), be)],
    ['GIF logical screen', claiming('9-gif.gif', () => 6, le)],
    ['BMP', claiming('1-bmp-24.bmp', () => 18, le32)],
    ['PNG', claiming('0-png-gray16.png', () => 16, (b, at) => (b.writeUInt32BE(60_000, at), b.writeUInt32BE(60_000, at + 4)))],
  ])('%s', async (_what, bytes) => {
    const body = expectProblem(await classify(bytes, 'bomb'), 413);
    expect(body).toMatchObject({ width: 60_000, height: 60_000, maxPixels: 40_000_000 });
  });
});
