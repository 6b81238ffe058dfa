import { deflateSync } from 'node:zlib';
import { heifClaiming } from '../support/container-bytes';
import { TEST_DECODER } from '../support/format-fixtures';
import { expectProblem } from '../support/problem';
import { fixture, useTestService } from '../support/service';

// Photos in the formats phones and the web send (WebP, AVIF, HEIC; see test/fixtures/SOURCES.md),
// on the decoder under test (CI runs this file once with the default, sharp, and once with
// IMAGE_DECODER=jimp, where WebP and AVIF are refused with 415).
const service = useTestService();

const classify = (bytes: Buffer, name: string) =>
  service.request.post('/models/imagenet/classify').query({ top_k: 5 }).attach('file', bytes, name);
const labels = (body: { predictions: { label: string }[] }) => body.predictions.map((p) => p.label);
const nativeOnly = TEST_DECODER === 'jimp';

describe('WebP and AVIF made from the JPEG photos classify like their JPEG (sharp; 415 on jimp)', () => {
  it.each([
    ['dog.webp', 'beagle'],
    ['dog.avif', 'beagle'],
    ['vulture.webp', 'vulture'],
    ['vulture.avif', 'vulture'],
    // Two frames, the dog then its negative: the first frame is what is classified.
    ['dog-animated.webp', 'beagle'],
  ])('%s: top-1 %s', async (file, top1) => {
    const res = await classify(fixture('photos', file), file);
    if (nativeOnly) {
      const body = expectProblem(res, 415);
      expect(body.detail).toMatch(/IMAGE_DECODER=sharp reads it/);
      expect(body.acceptedFormats).toEqual(['png', 'jpeg', 'heic', 'gif', 'tiff', 'bmp']);
    } else {
      expect(res.status).toBe(200);
      expect(labels(res.body)[0]).toBe(top1);
    }
  });
});

describe('real phone photos', () => {
  const nokia = fixture('phone-photos', 'nokia-8.3-harbour.jpg');

  it('a 9 MP Nokia JPEG of a harbour with a cruise ship: container ship', async () => {
    const res = await classify(nokia, 'nokia.jpg');
    expect(res.status).toBe(200);
    expect(labels(res.body)[0]).toBe('container ship');
  });

  it('an iPhone 13 Pro Max HEIC (12 MP, HEVC) of a kitchen: restaurant among the top 5 (ImageNet has no kitchen)', async () => {
    const res = await classify(fixture('phone-photos', 'iphone-13-pro-max-kitchen.heic'), 'kitchen.heic');
    expect(res.status).toBe(200);
    expect(labels(res.body)).toContain('restaurant');
  });

  it("the same JPEG with its last 300 kB missing: libvips (failOn 'none') still classifies it; jpeg-js answers 400", async () => {
    const res = await classify(nokia.subarray(0, nokia.length - 300_000), 'cut.jpg');
    if (nativeOnly) {
      expect(expectProblem(res, 400).type).toBe('urn:specserve:problem:undecodable-image');
    } else {
      expect(res.status).toBe(200);
      expect(labels(res.body)[0]).toBe('container ship');
    }
  });
});

/** The JPEG with its EXIF orientation value (a SHORT at the first 0x0112 tag, big-endian "MM") set. */
function withOrientation(jpeg: Buffer, value: number): Buffer {
  const copy = Buffer.from(jpeg);
  const tag = copy.indexOf(Buffer.from([0x01, 0x12, 0x00, 0x03]));
  copy.writeUInt16BE(value, tag + 8);
  return copy;
}

describe('bad input: a clear 4xx problem, and the server keeps serving', () => {
  const digit = (bytes: Buffer, name: string) => service.request.post('/mnist/classify').attach('file', bytes, name);
  const cut = (dir: string, file: string, keep: number) => {
    const bytes = fixture(dir, file);
    return bytes.subarray(0, Math.floor(bytes.length * keep));
  };
  const zipTail = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), deflateSync(Buffer.from('not a picture'.repeat(50)))]);
  const wrongBrand = Buffer.from(fixture('photos', 'dog.avif'));
  wrongBrand.write('qt  ', 8, 'latin1'); // the major brand
  wrongBrand.write('qt  ', 16, 'latin1'); // and every compatible brand
  wrongBrand.write('qt  ', 20, 'latin1');
  wrongBrand.write('qt  ', 24, 'latin1');
  /** ~600 bytes: a JPEG header declaring 6000x6000 and a few bytes of scan. */
  const tinyHuge = (() => {
    const jpeg = Buffer.from(fixture('photos', 'car.jpg').subarray(0, 600));
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(6000, sof + 5);
    jpeg.writeUInt16BE(6000, sof + 7);
    return jpeg;
  })();

  it.each<[string, () => Buffer, number]>([
    ['truncated WebP (30%)', () => cut('photos', 'dog.webp', 0.3), nativeOnly ? 415 : 400],
    ['truncated AVIF (30%)', () => cut('photos', 'dog.avif', 0.3), nativeOnly ? 415 : 400],
    // Cut inside its boxes (at 1%, before the item locations' data). libheif decodes a HEIC cut
    // further on with its missing grid tiles blank, as libvips does a JPEG with its tail missing.
    ['truncated HEIC (1%)', () => cut('phone-photos', 'iphone-13-pro-max-kitchen.heic', 0.01), 400],
    ['a HEIC declaring 100,000 x 100,000', () => heifClaiming(100_000, 100_000), 413],
    ['SVG (no rasterising of documents)', () => fixture('formats', '7.svg'), 415],
    ['PDF (no rasterising of documents)', () => fixture('formats', '7.pdf'), 415],
    ['an AVIF whose brands are not AVIF (a QuickTime video to the sniffer)', () => wrongBrand, 415],
    ['a polyglot: PNG magic, then a ZIP', () => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), zipTail]), 400],
    ['a ~600-byte JPEG declaring 6000x6000 (refused from its size, in microseconds)', () => tinyHuge, 400],
  ])('%s', async (_what, make, status) => {
    const res = await classify(make(), 'upload');
    const body = expectProblem(res, status);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
    expect((await digit(fixture('mnist', '3.png'), '3.png')).body.digit).toBe(3);
  });

  it('EXIF with an absurd orientation value (0, 9, 65535) is read as upright', async () => {
    for (const value of [0, 9, 65535]) {
      const res = await digit(withOrientation(fixture('formats', '7-jpeg-exif-1.jpg'), value), '7.jpg');
      expect({ value, status: res.status, digit: res.body.digit }).toEqual({ value, status: 200, digit: 7 });
    }
  });
});
