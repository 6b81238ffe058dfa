import { HeaderError, need, positive, type Reader } from './binary';
import { jimpDecode } from './jimp-codecs';
import { readJpegInfo } from './jpeg';
import type { RgbaImage } from './orientation';
import { tagValues, type Ifd, type IfdEntry } from './tiff-ifd';
import { CMYK, JPEG, T } from './tiff-tags';
import { decompressStrip, decompressesHere } from './tiff-strips';

/** What the header reader learnt about the first page (see tiff.ts). */
export interface TiffInfo {
  width: number;
  height: number;
  compression: number;
  photometric: number;
  bitsPerPixel: number;
  orientation: number;
  r: Reader;
  ifd: Ifd;
}

/** One strip or tile. */
interface Chunk {
  offset: number;
  length: number;
  width: number;
  height: number;
  /** Bytes its rows hold decompressed: at least `minBytes` (the rows it covers), at most `maxBytes` (a full strip). */
  minBytes: number;
  maxBytes: number;
}

/**
 * Decodes the first page with utif2, made safe: the strip table is checked against the page's size
 * (here rather than in the header reader, so that a huge size is a 413 before a damaged table is a
 * 400); LZW, Deflate and PackBits strips are decompressed here, bounded (tiff-strips.ts); JPEG strips
 * are checked to be no larger than the strip; and utif2 is given a first IFD rebuilt with only the
 * tags it needs (`decoderInput`).
 */
export async function decodeTiff(b: Uint8Array, info: TiffInfo): Promise<RgbaImage> {
  const chunks = readChunks(b, info);
  let strips: Uint8Array[] | undefined;
  if (decompressesHere(info.compression)) {
    strips = chunks.map((c) => decompressStrip(b.subarray(c.offset, c.offset + c.length), info.compression, c.minBytes, c.maxBytes));
  } else if (info.compression === JPEG) {
    // utif2 decodes a JPEG strip at the size its own frame header claims.
    for (const c of chunks) {
      const frame = readJpegInfo(b.subarray(c.offset, c.offset + c.length));
      if (frame.width > c.width || frame.height > c.height) {
        throw new Error(`a ${c.width}x${c.height} strip holds a ${frame.width}x${frame.height} JPEG frame`);
      }
    }
  }
  // utif2 decodes synchronously, and prints for tiled images: see `quiet`.
  const image = await jimpDecode('tiff', decoderInput(b, info, strips), undefined, { quiet: true });
  if (info.photometric === CMYK) cmykToRgb(image.data);
  return image;
}

/**
 * The strips (or tiles) of the page: as many as its geometry implies, each inside the file, an
 * uncompressed one as long as its rows. This is how a truncated TIFF is caught (utif2 would decode
 * zeros for the missing part), and it bounds the decoder's work by the size the header declares.
 */
function readChunks(b: Uint8Array, { r, ifd, width, height, bitsPerPixel, compression }: TiffInfo): Chunk[] {
  const tag = (t: number, fallback: number[] = []) => tagValues(b, r, ifd, t, fallback);
  const tiled = ifd.entries.has(T.tileOffsets);
  const chunkWidth = tiled ? (tag(T.tileWidth)[0] ?? 0) : width;
  const chunkHeight = tiled ? (tag(T.tileLength)[0] ?? 0) : Math.min(height, tag(T.rowsPerStrip, [height])[0] || height);
  positive(chunkWidth, chunkHeight);
  const expected = tiled ? Math.ceil(width / chunkWidth) * Math.ceil(height / chunkHeight) : Math.ceil(height / chunkHeight);
  const offsets = tag(tiled ? T.tileOffsets : T.stripOffsets);
  const counts = tag(tiled ? T.tileByteCounts : T.stripByteCounts);
  if (offsets.length !== expected || counts.length !== expected) {
    throw new HeaderError(`it lists ${offsets.length} strip offsets and ${counts.length} byte counts where its size needs ${expected}`);
  }
  const rowBytes = Math.ceil((chunkWidth * bitsPerPixel) / 8);
  return offsets.map((offset, i) => {
    // The last strip holds the rows left over; tiles are all whole.
    const rows = tiled || i < expected - 1 ? chunkHeight : height - chunkHeight * (expected - 1);
    const length = counts[i]!;
    need(b, offset + length, `end of strip ${i}`);
    if (compression === 1 && length < rowBytes * rows) throw new HeaderError(`strip ${i} has ${length} of its ${rowBytes * rows} bytes`);
    return { offset, length, width: chunkWidth, height: chunkHeight, minBytes: rowBytes * rows, maxBytes: rowBytes * chunkHeight };
  });
}

/** The tags utif2 reads to decode a page. */
const DECODING_TAGS = new Set([
  256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 284, 292, 293, 317, 320, 322, 323, 324, 325, 338, 339, 347, 530,
]);
const TYPE_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 6: 1, 7: 1, 8: 2, 9: 4 };
const SHORT = 3;
const LONG = 4;

/**
 * What utif2 is given: the file with a new first IFD appended, holding only the decoding tags of the
 * page that was checked, each checked to lie inside the file. utif2 reads every tag of every IFD it
 * reaches, follows EXIF, GPS, sub-IFD and maker-note pointers, and builds a JS array as long as each
 * entry's count says: one damaged count of 10^8 costs tens of seconds and gigabytes, or aborts V8
 * outright (seen in fuzzing: nothing to catch, the process dies).
 * The rebuilt IFD also has no successor, so later pages are never decoded.
 * With `strips` (decompressed here), the page is described as uncompressed strips appended too.
 * A CMYK page is relabelled RGB, so that utif2 hands over its four channels untouched (its own CMYK
 * conversion needs a browser); `cmykToRgb` converts them.
 */
function decoderInput(b: Uint8Array, info: TiffInfo, strips: Uint8Array[] | undefined): Buffer {
  const le = info.r.littleEndian;
  const appended: Uint8Array[] = [];
  let end = b.length + (b.length & 1); // what is appended starts on a word boundary
  const append = (bytes: Uint8Array): number => {
    const at = end;
    appended.push(bytes);
    end += bytes.length + (bytes.length & 1);
    if (bytes.length & 1) appended.push(new Uint8Array(1));
    return at;
  };
  const u16 = (v: number) => {
    const w = Buffer.alloc(2);
    if (le) w.writeUInt16LE(v);
    else w.writeUInt16BE(v);
    return w;
  };
  const u32 = (v: number) => {
    const w = Buffer.alloc(4);
    if (le) w.writeUInt32LE(v);
    else w.writeUInt32BE(v);
    return w;
  };
  /** An IFD entry's 12 bytes; a SHORT value sits left-justified in the 4-byte value field. */
  const entry = (tag: number, type: number, count: number, value: Buffer) =>
    Buffer.concat([u16(tag), u16(type), u32(count), value, Buffer.alloc(4 - value.length)]);
  const short = (tag: number, value: number) => entry(tag, SHORT, 1, u16(value));
  /** LONG values, inline when there is one, else appended. */
  const longs = (tag: number, values: number[]) => {
    const data = Buffer.concat(values.map(u32));
    return entry(tag, LONG, values.length, values.length === 1 ? data : u32(append(data)));
  };

  const replaced = new Map<number, Buffer>();
  if (info.photometric === CMYK) replaced.set(T.photometric, short(T.photometric, 2));
  if (strips !== undefined) {
    const tiled = info.ifd.entries.has(T.tileOffsets);
    const [offsetsTag, countsTag] = tiled ? [T.tileOffsets, T.tileByteCounts] : [T.stripOffsets, T.stripByteCounts];
    replaced.set(T.compression, short(T.compression, 1));
    replaced.set(offsetsTag, longs(offsetsTag, strips.map(append)));
    replaced.set(countsTag, longs(countsTag, strips.map((s) => s.length)));
  }

  const kept: IfdEntry[] = [...info.ifd.entries.values()].filter((e) => DECODING_TAGS.has(e.tag)).sort((x, y) => x.tag - y.tag);
  const entries = kept.map((e) => {
    const replacement = replaced.get(e.tag);
    if (replacement !== undefined) return replacement;
    const size = TYPE_BYTES[e.type];
    if (size === undefined) throw new Error(`tag ${e.tag} has type ${e.type}`);
    if (e.count * size > 4) need(b, info.r.u32(e.at + 8) + e.count * size, `values of tag ${e.tag}`);
    return Buffer.from(b.subarray(e.at, e.at + 12)); // values out of line still point into the original bytes
  });
  const ifd = Buffer.concat([u16(entries.length), ...entries, u32(0)]); // no next IFD
  const ifdAt = append(ifd);

  const out = Buffer.alloc(end);
  out.set(b);
  let at = b.length + (b.length & 1);
  for (const bytes of appended) {
    out.set(bytes, at);
    at += bytes.length;
  }
  out.set(u32(ifdAt), 4);
  return out;
}

/** Naive CMYK -> RGB (no colour profile), the conversion every simple reader uses: R = (1 - C)(1 - K). */
function cmykToRgb(data: Uint8Array): void {
  for (let p = 0; p < data.length; p += 4) {
    const k = 255 - data[p + 3]!;
    data[p] = Math.round(((255 - data[p]!) * k) / 255);
    data[p + 1] = Math.round(((255 - data[p + 1]!) * k) / 255);
    data[p + 2] = Math.round(((255 - data[p + 2]!) * k) / 255);
    data[p + 3] = 255;
  }
}
