import { DataError, HeaderError, UnsupportedVariant, i32le, need, positive, u16le, u32le } from './binary';
import type { Probe } from './probe';
import type { RgbaImage } from './orientation';

/**
 * BMP, decoded here rather than by jimp's codec (bmp-ts), which mangles RLE-compressed files (what
 * ImageMagick writes for any greyscale or palette image), ignores the pixel-data offset, refuses OS/2
 * headers and drops alpha. Reads: Windows INFO/V2-V5 and OS/2 1.x/2.x headers; 1, 2, 4, 8-bit palettes,
 * RLE8, RLE4; 16, 24, 32-bit with or without bit-field masks, alpha when a mask gives it; bottom-up and
 * top-down rows.
 */

/** DIB header sizes: OS/2 1.x (12), OS/2 2.x (16 or 64), Windows INFO (40) and V2-V5 (52, 56, 108, 124). */
export const BMP_HEADER_SIZES: ReadonlySet<number> = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

const RGB = 0;
const RLE8 = 1;
const RLE4 = 2;
const BITFIELDS = 3;
const ALPHABITFIELDS = 6;

interface Masks {
  r: number;
  g: number;
  b: number;
  a: number;
}

interface BmpInfo {
  width: number;
  height: number;
  /** Rows stored top row first (negative height) rather than bottom row first. */
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  /** Palette as RGBA words (0xRRGGBBAA); empty above 8 bits per pixel. */
  palette: Uint32Array;
  masks: Masks;
  dataOffset: number;
}

export function probeBmp(b: Uint8Array): Probe {
  const info = readBmpInfo(b);
  return {
    header: { format: 'bmp', width: info.width, height: info.height },
    decodeJs: async () => decodeBmp(b, info),
  };
}

function readBmpInfo(b: Uint8Array): BmpInfo {
  const dataOffset = u32le(b, 10);
  const dib = u32le(b, 14);
  if (!BMP_HEADER_SIZES.has(dib)) throw new HeaderError(`unknown DIB header size ${dib}`);
  need(b, 14 + dib, 'end of the DIB header');
  const os2 = dib === 12;
  const width = os2 ? u16le(b, 18) : i32le(b, 18);
  const rawHeight = os2 ? u16le(b, 20) : i32le(b, 22);
  const bitsPerPixel = os2 ? u16le(b, 24) : u16le(b, 28);
  const compression = dib >= 20 ? u32le(b, 30) : RGB;
  positive(width, Math.abs(rawHeight));
  checkCompression(dib, compression, bitsPerPixel);

  // Bit-field masks live in the header from V2 on; after a 40-byte header they follow it.
  // Either way they start at byte 54.
  const trailingMasks = dib === 40 ? (compression === BITFIELDS ? 3 : compression === ALPHABITFIELDS ? 4 : 0) : 0;
  const masks: Masks =
    compression === BITFIELDS || compression === ALPHABITFIELDS
      ? {
          r: u32le(b, 54),
          g: u32le(b, 58),
          b: u32le(b, 62),
          a: dib >= 56 || trailingMasks === 4 ? u32le(b, 66) : 0,
        }
      : defaultMasks(bitsPerPixel);

  const paletteAt = 14 + dib + trailingMasks * 4;
  const entrySize = os2 ? 3 : 4;
  let palette = new Uint32Array(0);
  if (bitsPerPixel <= 8) {
    const used = dib >= 40 ? u32le(b, 46) : 0; // biClrUsed; 0 = all 2^bits
    const fits = Math.floor(((dataOffset || b.length) - paletteAt) / entrySize);
    const count = Math.min(used || 1 << bitsPerPixel, 1 << bitsPerPixel, fits);
    if (count <= 0) throw new HeaderError('there is no colour table');
    need(b, paletteAt + count * entrySize, 'end of the colour table');
    palette = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const p = paletteAt + i * entrySize;
      palette[i] = ((b[p + 2]! << 24) | (b[p + 1]! << 16) | (b[p]! << 8) | 0xff) >>> 0;
    }
  }
  if (dataOffset < paletteAt || dataOffset >= b.length) throw new HeaderError(`pixel data offset ${dataOffset}`);
  return { width, height: Math.abs(rawHeight), topDown: rawHeight < 0, bitsPerPixel, compression, palette, masks, dataOffset };
}

function checkCompression(dib: number, compression: number, bits: number): void {
  const os2v2 = dib === 16 || dib === 64;
  const allowed: Record<number, readonly number[]> = {
    [RGB]: [1, 2, 4, 8, 16, 24, 32],
    [RLE8]: [8],
    [RLE4]: [4],
    [BITFIELDS]: [16, 32],
    [ALPHABITFIELDS]: [16, 32],
  };
  if (compression === 4 && !os2v2) throw new UnsupportedVariant('embedded JPEG data');
  if (compression === 5) throw new UnsupportedVariant('embedded PNG data');
  if (os2v2 && compression >= 3) throw new UnsupportedVariant(`OS/2 compression ${compression === 3 ? '(Huffman 1D)' : '(RLE24)'}`);
  const bitsAllowed = allowed[compression];
  if (bitsAllowed === undefined) throw new UnsupportedVariant(`compression ${compression}`);
  if (!bitsAllowed.includes(bits)) throw new HeaderError(`${bits} bits per pixel with compression ${compression}`);
}

/** Without explicit masks: 16 bits are 5-5-5, 32 bits are 8-8-8 with the top byte unused. */
function defaultMasks(bits: number): Masks {
  return bits === 16 ? { r: 0x7c00, g: 0x03e0, b: 0x001f, a: 0 } : { r: 0xff0000, g: 0xff00, b: 0xff, a: 0 };
}

export function decodeBmp(b: Uint8Array, info: BmpInfo): RgbaImage {
  const { width, height } = info;
  const out = new Uint32Array(width * height); // 0xRRGGBBAA per pixel, written big-endian below
  if (info.compression === RLE8 || info.compression === RLE4) decodeRle(b, info, out);
  else decodeRows(b, info, out);
  const data = new Uint8Array(width * height * 4);
  const view = new DataView(data.buffer);
  for (let i = 0; i < out.length; i++) view.setUint32(i * 4, out[i]!);
  return { width, height, data };
}

/** Uncompressed and bit-field rows: each padded to 4 bytes. */
function decodeRows(b: Uint8Array, info: BmpInfo, out: Uint32Array): void {
  const { width, height, bitsPerPixel: bits, palette, dataOffset } = info;
  const stride = Math.ceil((width * bits) / 32) * 4;
  // The last row's padding may be missing (some writers stop at the last pixel).
  need(b, dataOffset + stride * (height - 1) + Math.ceil((width * bits) / 8), 'end of the pixel data');
  const channel = maskReaders(info.masks);
  let alphaSeen = false;
  for (let r = 0; r < height; r++) {
    const y = info.topDown ? r : height - 1 - r;
    const row = dataOffset + r * stride;
    for (let x = 0; x < width; x++) {
      let rgba: number;
      if (bits <= 8) {
        const bit = x * bits;
        const index = (b[row + (bit >> 3)]! >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
        rgba = palette[index] ?? 0x000000ff; // out of range: black, as browsers show it
      } else if (bits === 24) {
        const p = row + x * 3;
        rgba = ((b[p + 2]! << 24) | (b[p + 1]! << 16) | (b[p]! << 8) | 0xff) >>> 0;
      } else {
        const p = row + x * (bits >> 3);
        const px = bits === 16 ? b[p]! | (b[p + 1]! << 8) : (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
        const a = channel.a(px, 255);
        if (a !== 0) alphaSeen = true;
        rgba = ((channel.r(px, 0) << 24) | (channel.g(px, 0) << 16) | (channel.b(px, 0) << 8) | a) >>> 0;
      }
      out[y * width + x] = rgba;
    }
  }
  // Writers that declare an alpha mask but leave it all zero mean an opaque image (browsers agree).
  if (bits > 8 && info.masks.a !== 0 && !alphaSeen) for (let i = 0; i < out.length; i++) out[i] = (out[i]! | 0xff) >>> 0;
}

type ChannelReader = (px: number, absent: number) => number;

/** For each mask, a reader scaling its bits to 0-255 (`absent` when the mask is 0). */
function maskReaders(masks: Masks): { r: ChannelReader; g: ChannelReader; b: ChannelReader; a: ChannelReader } {
  const reader = (mask: number): ChannelReader => {
    if (mask === 0) return (_px, absent) => absent;
    let shift = 0;
    while (((mask >>> shift) & 1) === 0) shift++;
    const max = mask >>> shift;
    return (px) => Math.round((((px & mask) >>> shift) * 255) / max);
  };
  return { r: reader(masks.r >>> 0), g: reader(masks.g >>> 0), b: reader(masks.b >>> 0), a: reader(masks.a >>> 0) };
}

/**
 * RLE8 / RLE4: runs of one index, absolute runs, line ends, deltas. Pixels the stream never paints
 * stay transparent (Chromium shows them so), and become white once flattened.
 */
function decodeRle(b: Uint8Array, info: BmpInfo, out: Uint32Array): void {
  const { width, height, palette } = info;
  const four = info.compression === RLE4;
  let at = info.dataOffset;
  let x = 0;
  let y = 0; // counted in storage order: from the bottom row unless top-down
  const put = (index: number) => {
    if (x < width && y < height) out[(info.topDown ? y : height - 1 - y) * width + x] = palette[index] ?? 0x000000ff;
    x++;
  };
  const byte = () => {
    if (at >= b.length) throw new DataError('the RLE data ends before its end-of-bitmap marker');
    return b[at++]!;
  };
  while (y < height) {
    const count = byte();
    const value = byte();
    if (count > 0) {
      for (let i = 0; i < count; i++) put(four ? (i & 1 ? value & 15 : value >> 4) : value);
    } else if (value === 0) {
      x = 0;
      y++;
    } else if (value === 1) {
      return;
    } else if (value === 2) {
      x += byte();
      y += byte();
    } else {
      const bytes = four ? Math.ceil(value / 2) : value;
      for (let i = 0; i < value; i++) {
        const v = four ? b[at + (i >> 1)] : b[at + i];
        if (v === undefined) throw new DataError('the RLE data ends inside an absolute run');
        put(four ? (i & 1 ? v & 15 : v >> 4) : v);
      }
      at += bytes + (bytes & 1); // absolute runs are padded to 16 bits
    }
  }
}
