import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { UndecodableImage } from '../errors/errors';
import { decodeToGray, decodeToRgba } from './decode';
import { adam7Bytes } from './png';
import { ANY_SIZE, darkDigit, FIXTURES, fx, grayDiff } from '../../test/support/format-fixtures';
import { pngChunk } from '../../test/support/png-bytes';


/** A PNG from raw scanlines (each already prefixed with its filter byte). */
function png(width: number, height: number, depth: number, colourType: number, idat: Uint8Array, interlace = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colourType, 0, 0, interlace], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

describe('PNG 16-bit samples', () => {
  const samples = [0x0000, 0x00ff, 0x0080, 0x7f7f, 0x8080, 0x7fff, 0xfffe, 0xffff];
  const to8 = (v: number) => Math.round((v * 255) / 65535);

  it('greyscale: each 16-bit sample scaled to 8 bits, rounded', async () => {
    const row = Buffer.alloc(1 + samples.length * 2);
    samples.forEach((v, i) => row.writeUInt16BE(v, 1 + i * 2));
    const img = await decodeToRgba(png(samples.length, 1, 16, 0, deflateSync(row)), ANY_SIZE);
    expect(Array.from({ length: samples.length }, (_, i) => img.data[i * 4])).toEqual(samples.map(to8));
    expect(Array.from({ length: samples.length }, (_, i) => img.data[i * 4 + 3])).toEqual(samples.map(() => 255));
  });

  it('RGBA: colour and alpha scaled alike', async () => {
    const row = Buffer.alloc(1 + 2 * 8);
    [0xffff, 0x8000, 0x0101, 0x4000].forEach((v, i) => row.writeUInt16BE(v, 1 + i * 2));
    [0x0000, 0x1234, 0xfedc, 0x0000].forEach((v, i) => row.writeUInt16BE(v, 9 + i * 2));
    const img = await decodeToRgba(png(2, 1, 16, 6, deflateSync(row)), ANY_SIZE);
    expect(Array.from(img.data)).toEqual([255, 128, 1, 64, 0, 18, 254, 0]);
  });

  it('the 16-bit fixtures are the 8-bit digits exactly', async () => {
    expect(grayDiff(await decodeToGray(fx('0-png-gray16.png'), ANY_SIZE), await darkDigit(0))).toBeLessThan(1e-6);
    const graya8 = await decodeToGray(fx('2-png-graya.png'), ANY_SIZE);
    expect(grayDiff(await decodeToGray(fx('2-png-graya16.png'), ANY_SIZE), graya8)).toBeLessThan(1e-6);
  });
});

describe('PNG colour types', () => {
  it('grey + alpha: black ink whose alpha is the digit, flattened onto white', async () => {
    const img = await decodeToRgba(fx('2-png-graya.png'), ANY_SIZE);
    expect(img.data[3]).toBe(0); // transparent paper
    expect(grayDiff(await decodeToGray(fx('2-png-graya.png'), ANY_SIZE), await darkDigit(2))).toBeLessThan(0.005);
  });

  it('palette without tRNS: opaque; with tRNS: the entries it lists are transparent', async () => {
    const alphas = async (name: string) => new Set((await decodeToRgba(fx(name), ANY_SIZE)).data.filter((_, i) => i % 4 === 3));
    expect(await alphas('3-png-palette.png')).toEqual(new Set([255]));
    expect(await alphas('3-png-palette-trns.png')).toEqual(new Set([0, 255]));
  });

  it('greyscale with a tRNS colour: that grey is transparent', async () => {
    const img = await decodeToRgba(fx('7-png-gray-trns.png'), ANY_SIZE);
    expect(img.data[3]).toBe(0);
    expect(grayDiff(await decodeToGray(fx('7-png-gray-trns.png'), ANY_SIZE), await darkDigit(7))).toBeLessThan(0.01);
  });

  it('1-bit greyscale: black and white only', async () => {
    const g = await decodeToGray(fx('6-png-1bit.png'), ANY_SIZE);
    expect(new Set(g.data)).toEqual(new Set([0, 1]));
    expect(grayDiff(g, await darkDigit(6))).toBeLessThan(0.1);
  });

  it('RGBA: navy ink, alpha = the digit', async () => {
    const img = await decodeToRgba(fx('5-png-rgba.png'), ANY_SIZE);
    expect(Array.from(img.data.subarray(0, 4))).toEqual([0, 0, 128, 0]);
    // Flattened: 1 - alpha * (1 - luma), navy's luma being 0.114 * 128 / 255; alpha = 1 - dark digit.
    const expected = (await darkDigit(5)).data.map((v) => 1 - (1 - v) * (1 - (0.114 * 128) / 255));
    expect(grayDiff(await decodeToGray(fx('5-png-rgba.png'), ANY_SIZE), { data: expected })).toBeLessThan(0.005);
  });
});

describe('PNG Adam7 interlacing', () => {
  it('decodes a hand-interlaced image to its pixels, and the fixture is interlaced', async () => {
    expect(fx('4-png-adam7.png')[28]).toBe(1); // IHDR interlace method
    // A 13x11 8-bit grey image, every pixel different, written as the 7 Adam7 passes (filter 0).
    const width = 13;
    const height = 11;
    const pixel = (x: number, y: number) => (x * 19 + y * 7) % 256;
    const rows: number[] = [];
    const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;
    for (const [x0, y0, dx, dy] of passes) {
      for (let y = y0; y < height; y += dy) {
        if (x0 >= width) continue;
        rows.push(0);
        for (let x = x0; x < width; x += dx) rows.push(pixel(x, y));
      }
    }
    expect(rows.length).toBe(adam7Bytes(width, height, (w) => w * 8));
    const img = await decodeToRgba(png(width, height, 8, 0, deflateSync(Buffer.from(rows)), 1), ANY_SIZE);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) expect(img.data[(y * width + x) * 4]).toBe(pixel(x, y));
  });

  it('knows the inflated size of the seven passes', () => {
    // 8-bit grey: one byte per pixel plus a filter byte per row of each pass.
    expect(adam7Bytes(1, 1, (w) => w * 8)).toBe(2);
    expect(adam7Bytes(8, 8, (w) => w * 8)).toBe(64 + 15);
    expect(adam7Bytes(3, 2, (w) => w * 8)).toBe(6 + 4);
  });

  it('refuses an interlaced PNG whose data inflates far beyond its size (pngjs would inflate it all) with 400', async () => {
    const bomb = png(64, 64, 8, 0, deflateSync(Buffer.alloc(16 * 2 ** 20)), 1);
    expect(bomb.length).toBeLessThan(100_000);
    const before = process.memoryUsage().arrayBuffers;
    const err = await decodeToGray(bomb, ANY_SIZE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UndecodableImage);
    expect((err as UndecodableImage).detail).toMatch(/inflates to more than the \d+ bytes its header allows/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 2 ** 20);
  });
});

describe('image data too short for the declared size', () => {
  it('is refused as undecodable before pngjs builds a mostly blank picture', async () => {
    // 7.png (28x28) with its header saying 6000x6000: 200 bytes of data cannot inflate to 36 MB.
    const png = Buffer.from(readFileSync(path.join(FIXTURES, 'mnist', '7.png')));
    png.writeUInt32BE(6000, 16);
    png.writeUInt32BE(6000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
    await expect(decodeToRgba(png, ANY_SIZE)).rejects.toThrow(UndecodableImage);
    await expect(decodeToRgba(png, ANY_SIZE)).rejects.toThrow(/cannot hold the 6000x6000 image/);
  });
});
