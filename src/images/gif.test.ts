import { Jimp, defaultFormats } from 'jimp';
import { UndecodableImage } from '../errors/errors';
import { decodeToGray, decodeToRgba } from './decode';
import { sniffImage } from './sniff';
import { ANY_SIZE, darkDigit, fx, grayDiff, problem, TEST_DECODER } from '../../test/support/format-fixtures';
import { decodeBoundMs } from './decode-thread';
import type { GrayImage } from './gray';


/** Offsets of the image descriptors (0x2c after the header, colour table and extensions) of a GIF. */
function imageDescriptors(gif: Buffer): number[] {
  const found: number[] = [];
  let at = 13 + (gif[10]! & 0x80 ? 3 << ((gif[10]! & 7) + 1) : 0);
  const skip = (p: number) => {
    while (gif[p] !== 0) p += 1 + gif[p]!;
    return p + 1;
  };
  while (gif[at] !== 0x3b) {
    if (gif[at] === 0x21) at = skip(at + 2);
    else {
      found.push(at);
      const flags = gif[at + 9]!;
      at = skip(at + 11 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0));
    }
  }
  return found;
}

describe('GIF: the first frame only', () => {
  const animated = fx('4-gif-animated-then-9.gif');

  it('an animation of a 4 then a 9 is read as the 4', async () => {
    expect(imageDescriptors(animated)).toHaveLength(2);
    const img = await decodeToGray(animated, ANY_SIZE);
    expect(grayDiff(img, await darkDigit(4))).toBeLessThan(0.01);
    expect(grayDiff(img, await darkDigit(9))).toBeGreaterThan(0.1);
  });

  it('a file cut inside its second frame still gives the first with libvips (omggif: a 400)', async () => {
    const second = imageDescriptors(animated)[1]!;
    const result = await problem(animated.subarray(0, second + 40));
    if (TEST_DECODER === 'jimp') expect(result).toBeInstanceOf(UndecodableImage);
    else expect(grayDiff(result as GrayImage, await darkDigit(4))).toBeLessThan(0.01);
  });

  it('a file cut inside its first frame: libvips (failOn none) shows what is there, omggif answers 400', async () => {
    const first = imageDescriptors(animated)[0]!;
    const result = await problem(animated.subarray(0, first + 60));
    if (TEST_DECODER === 'jimp') expect(result).toBeInstanceOf(UndecodableImage);
    else expect(result).toMatchObject({ width: 28, height: 28 });
  });

  it('extensions before the frame, even ones omggif does not know (plain text): skipped by libvips, a 400 from omggif', async () => {
    const gif = fx('9-gif.gif');
    const first = imageDescriptors(gif)[0]!;
    const extensions = Buffer.concat([
      Buffer.from([0x21, 0xfe, 5, ...Buffer.from('hello'), 0]), // comment
      Buffer.from([0x21, 0x01, 12, 0, 0, 0, 0, 8, 0, 8, 0, 8, 8, 1, 0, 2, ...Buffer.from('hi'), 0]), // plain text
      Buffer.from([0x21, 0xff, 11, ...Buffer.from('XMP DataXMP'), 3, 1, 2, 3, 0]), // application
    ]);
    const withExtensions = Buffer.concat([gif.subarray(0, first), extensions, gif.subarray(first)]);
    if (TEST_DECODER === 'jimp') expect(await problem(withExtensions)).toBeInstanceOf(UndecodableImage);
    else expect(await decodeToRgba(withExtensions, ANY_SIZE)).toEqual(await decodeToRgba(gif, ANY_SIZE));
  });

  it('a GIF with no image before its trailer is a 400', async () => {
    const gif = fx('9-gif.gif');
    const first = imageDescriptors(gif)[0]!;
    const err = await decodeToGray(Buffer.concat([gif.subarray(0, first), Buffer.from([0x3b])]), ANY_SIZE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UndecodableImage);
  });
});

describe('GIF canvas and transparency', () => {
  it('a frame smaller than the logical screen is placed at its offset on the canvas', async () => {
    const gray = await decodeToGray(fx('6-gif-offset-frame.gif'), ANY_SIZE);
    expect([gray.width, gray.height]).toEqual([48, 40]);
    // Outside the frame: transparent, so white (codecFor sends such a GIF to omggif on either path).
    const at = (x: number, y: number) => gray.data[y * 48 + x];
    expect([at(9, 20), at(38, 20), at(20, 5), at(20, 34)]).toEqual([1, 1, 1, 1]);
    const inside = Float32Array.from({ length: 28 * 28 }, (_, i) => gray.data[(6 + Math.floor(i / 28)) * 48 + 10 + (i % 28)]!);
    expect(grayDiff({ data: inside }, await darkDigit(6))).toBeLessThan(0.01);
  });

  it('a logical screen smaller than its first frame grows to hold it with libvips, as browsers show it (omggif: cut to the screen)', async () => {
    const gif = Buffer.from(fx('9-gif.gif'));
    gif.writeUInt16LE(10, 6);
    gif.writeUInt16LE(10, 8);
    expect(sniffImage(gif, TEST_DECODER)).toEqual({ format: 'gif', width: 28, height: 28 });
    if (TEST_DECODER === 'jimp') expect(await decodeToGray(gif, ANY_SIZE)).toMatchObject({ width: 10, height: 10 });
    else expect(grayDiff(await decodeToGray(gif, ANY_SIZE), await darkDigit(9))).toBeLessThan(0.01);
  });

  it('the transparent colour index is flattened onto white', async () => {
    expect(grayDiff(await decodeToGray(fx('8-gif-transparent.gif'), ANY_SIZE), await darkDigit(8))).toBeLessThan(0.1);
  });

  it('interlaced rows are put back in order', async () => {
    const gif = fx('9-gif-interlaced.gif');
    expect(gif[imageDescriptors(gif)[0]! + 9]! & 0x40).toBe(0x40);
    const img = await decodeToGray(gif, ANY_SIZE);
    // The 56x56 picture scaled down 2x2 is close to the 28x28 digit, which scrambled rows would not be.
    const half = Float32Array.from({ length: 28 * 28 }, (_, i) => {
      const x = (i % 28) * 2;
      const y = Math.floor(i / 28) * 2;
      return (img.data[y * 56 + x]! + img.data[y * 56 + x + 1]! + img.data[(y + 1) * 56 + x]! + img.data[(y + 1) * 56 + x + 1]!) / 4;
    });
    expect(grayDiff({ data: half }, await darkDigit(9))).toBeLessThan(0.06);
  });
});

describe('GIF decoding', () => {
  /** jimp's own GIF codec (omggif), as a reference for well-formed files. */
  const omggif = async (gif: Buffer) => {
    const codec = defaultFormats.map((make) => make()).find((f) => f.mime === 'image/gif')!;
    const { data } = await (codec.decode as unknown as (b: Buffer) => Promise<{ data: Buffer }>)(gif);
    return new Uint8Array(data);
  };

  it('decodes what jimp encodes exactly as omggif does: noise, 256 colours, full code tables', async () => {
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (const [w, h, colours] of [
      [97, 61, 256],
      [8, 8, 2],
      [150, 40, 16],
    ] as const) {
      const img = new Jimp({ width: w, height: h });
      const palette = Array.from({ length: colours }, () => [random() * 256, random() * 256, random() * 256].map(Math.floor));
      for (let i = 0; i < w * h; i++) img.bitmap.data.set([...palette[Math.floor(random() * colours)]!, 255], i * 4);
      const gif = await img.getBuffer('image/gif');
      expect((await decodeToRgba(gif, ANY_SIZE)).data).toEqual(await omggif(gif));
    }
  });

  it('a damaged GIF on which omggif never returns: an answer within the decode bound (libvips: at once)', async () => {
    // Three bytes of 9-gif.gif's LZW data changed (found by the random-damage test).
    const gif = Buffer.from(fx('9-gif.gif'));
    gif[167] = 123;
    gif[218] = 90;
    gif[263] = 248;
    const started = Date.now();
    const result = await problem(gif);
    if (TEST_DECODER === 'jimp') {
      expect(result).toBeInstanceOf(UndecodableImage);
      expect((result as UndecodableImage).detail).toMatch(/not decoded within \d+ ms/);
    } else {
      expect(result).toBeInstanceOf(UndecodableImage); // libvips: "Invalid frame data", at once
    }
    expect(Date.now() - started).toBeLessThan(decodeBoundMs(28 * 28) + 3_000);
  });
});
