import { crc32, inflateSync } from 'node:zlib';
import { DataError, HeaderError, ascii, need, positive, startsWith, u32be } from './binary';
import { asBuffer, jimpDecode } from './jimp-codecs';
import type { Probe } from './probe';

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** One chunk as PNG lays it out: length, type, data, CRC-32 of type + data (for the PNGs this project writes). */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body) >>> 0, 8 + data.length);
  return out;
}

/** Bit depths the PNG specification allows per colour type (grey, RGB, palette, grey+alpha, RGBA). */
const DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * PNG header, checked against the image data it comes with. Decoded by libvips, or by pngjs (small
 * PNGs, and the jimp path: see codec-rule.ts), which reads every colour type and depth (16-bit samples
 * are scaled to 8 bits, palettes and tRNS become RGBA) and Adam7 interlacing.
 */
export function probePng(b: Uint8Array): Probe {
  need(b, 33, 'IHDR chunk');
  if (u32be(b, 8) !== 13 || !startsWith(b, ascii('IHDR'), 12)) throw new HeaderError('the first chunk is not IHDR');
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  positive(width, height);
  const [depth, colourType, , , interlace] = b.subarray(24, 29);
  if (!DEPTHS[colourType!]?.includes(depth!)) throw new HeaderError(`bit depth ${depth} with colour type ${colourType}`);
  if (interlace !== 0 && interlace !== 1) throw new HeaderError(`interlace method ${interlace}`);
  const rowBits = (w: number) => w * CHANNELS[colourType!]! * depth!;
  const inflated = interlace === 1 ? adam7Bytes(width, height, rowBits) : height * (1 + Math.ceil(rowBits(width) / 8));
  // Deflate cannot expand data more than about 1032:1, so image data much shorter than that cannot
  // hold the image its header declares: refuse it before any decoder builds (at full size) a mostly
  // blank picture from a few bytes.
  const checkData = () => {
    const stored = idatChunks(b).reduce((n, chunk) => n + chunk.length, 0);
    if (stored * MAX_DEFLATE_RATIO < inflated) {
      throw new HeaderError(`${stored} bytes of image data cannot hold the ${width}x${height} image it declares`);
    }
  };
  return {
    header: { format: 'png', width, height },
    checkData,
    decodeJs: async () => {
      // pngjs bounds the inflated size of a non-interlaced image, but inflates an interlaced one with
      // no limit: a few MB of zeros could inflate to gigabytes. Check that bound first.
      if (interlace === 1) checkInflatedSize(b, inflated);
      return jimpDecode('png', asBuffer(b));
    },
  };
}

/** Inflated size of an Adam7 image: each of the 7 passes is a sub-image of rows with a filter byte each. */
export function adam7Bytes(width: number, height: number, rowBits: (w: number) => number): number {
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ] as const;
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) total += h * (1 + Math.ceil(rowBits(w) / 8));
  }
  return total;
}

/** The best compression deflate can reach (258-byte matches coded in about 2 bits), rounded up. */
const MAX_DEFLATE_RATIO = 1032;

/** The IDAT chunks' data, in order (cut short where the file is). */
function idatChunks(b: Uint8Array): Uint8Array[] {
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 12 <= b.length; ) {
    const length = u32be(b, at);
    if (startsWith(b, ascii('IDAT'), at + 4)) idat.push(b.subarray(at + 8, Math.min(b.length, at + 8 + length)));
    at += 12 + length;
  }
  return idat;
}

/** Inflates the IDAT stream with `limit` as the most output allowed; throws when it would exceed it. */
function checkInflatedSize(b: Uint8Array, limit: number): void {
  const idat = idatChunks(b);
  try {
    inflateSync(Buffer.concat(idat), { maxOutputLength: Math.max(1, limit) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataError(`the image data inflates to more than the ${limit} bytes its header allows`);
    }
    throw err;
  }
}
