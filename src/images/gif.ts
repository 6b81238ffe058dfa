import { HeaderError, need, positive, u16le, u8 } from './binary';
import { lzwDecode } from './gif-lzw';
import type { RgbaImage } from './orientation';
import type { Probe } from './probe';

const EXTENSION = 0x21;
const IMAGE = 0x2c;
const TRAILER = 0x3b;
const GRAPHIC_CONTROL = 0xf9;

/** The first frame, as its blocks describe it. */
interface FirstFrame {
  /** Canvas size: the logical screen, grown to hold the frame if the file understates it (as browsers do). */
  width: number;
  height: number;
  /** The frame's rectangle on the canvas. */
  x: number;
  y: number;
  frameWidth: number;
  frameHeight: number;
  interlaced: boolean;
  /** The local colour table, else the global one (RGB triples; may be empty). */
  palette: Uint8Array;
  /** The transparent colour index of the frame's graphic control extension, if it sets one. */
  transparentIndex?: number;
  /** Where the frame's LZW data starts: its minimum code size, then data sub-blocks. */
  dataAt: number;
}

/**
 * GIF: the first frame only, placed on a transparent canvas the size of the logical screen
 * (transparent pixels are later flattened onto white), which is what a still of an animation shows.
 * Decoded here: jimp's GIF codec (omggif) does decode frame 0 only, but it loops forever on some
 * damaged LZW data, and it refuses a whole file for a damaged later frame or an extension it does not
 * know. Later frames are never read.
 */
export function probeGif(b: Uint8Array): Probe {
  const frame = readFirstFrame(b);
  return {
    header: { format: 'gif', width: frame.width, height: frame.height },
    decode: async () => decodeFirstFrame(b, frame),
  };
}

function readFirstFrame(b: Uint8Array): FirstFrame {
  const screenWidth = u16le(b, 6);
  const screenHeight = u16le(b, 8);
  const flags = u8(b, 10);
  let at = 13 + colourTableBytes(flags);
  need(b, at, 'global colour table');
  const globalTable = b.subarray(13, at);
  let transparentIndex: number | undefined;
  for (;;) {
    const block = u8(b, at);
    if (block === EXTENSION) {
      // A graphic control extension applies to the next image; its 4-byte body holds the transparency.
      if (u8(b, at + 1) === GRAPHIC_CONTROL && u8(b, at + 2) === 4) transparentIndex = u8(b, at + 3) & 1 ? u8(b, at + 6) : undefined;
      at = skipSubBlocks(b, at + 2);
    } else if (block === IMAGE) {
      const x = u16le(b, at + 1);
      const y = u16le(b, at + 3);
      const frameWidth = u16le(b, at + 5);
      const frameHeight = u16le(b, at + 7);
      positive(frameWidth, frameHeight);
      const frameFlags = u8(b, at + 9);
      const dataAt = at + 10 + colourTableBytes(frameFlags);
      need(b, dataAt, 'local colour table');
      return {
        width: Math.max(screenWidth, x + frameWidth),
        height: Math.max(screenHeight, y + frameHeight),
        x,
        y,
        frameWidth,
        frameHeight,
        interlaced: (frameFlags & 0x40) !== 0,
        palette: frameFlags & 0x80 ? b.subarray(at + 10, dataAt) : globalTable,
        transparentIndex,
        dataAt,
      };
    } else if (block === TRAILER) {
      throw new HeaderError('it has no image before its trailer');
    } else {
      throw new HeaderError(`unknown block type 0x${block.toString(16)} at byte ${at}`);
    }
  }
}

/** Size of the colour table a packed flags byte announces (global or local: same bits). */
function colourTableBytes(flags: number): number {
  return flags & 0x80 ? 3 << ((flags & 7) + 1) : 0;
}

/** Skips data sub-blocks (a length byte, then that many bytes) up to the empty one; returns the offset after it. */
function skipSubBlocks(b: Uint8Array, at: number): number {
  for (;;) {
    const size = u8(b, at);
    at += 1 + size;
    if (size === 0) return at;
    need(b, at, 'end of a data block');
  }
}

/** The data sub-blocks from `at` joined; a frame cut short throws (400). */
function joinSubBlocks(b: Uint8Array, at: number): Uint8Array {
  const end = skipSubBlocks(b, at);
  const out = new Uint8Array(end - at);
  let n = 0;
  for (let p = at; b[p]! !== 0; p += 1 + b[p]!) {
    out.set(b.subarray(p + 1, p + 1 + b[p]!), n);
    n += b[p]!;
  }
  return out.subarray(0, n);
}

function decodeFirstFrame(b: Uint8Array, f: FirstFrame): RgbaImage {
  if (f.palette.length === 0) throw new Error('the frame has no colour table');
  const indices = new Uint8Array(f.frameWidth * f.frameHeight);
  const decoded = lzwDecode(joinSubBlocks(b, f.dataAt + 1), u8(b, f.dataAt), indices);
  if (decoded < indices.length) throw new Error(`the frame's data ends after ${decoded} of its ${indices.length} pixels`);

  const data = new Uint8Array(f.width * f.height * 4); // transparent where the frame does not paint
  const colours = f.palette.length / 3;
  const rows = f.interlaced ? interlacedRows(f.frameHeight) : Array.from({ length: f.frameHeight }, (_, i) => i);
  rows.forEach((row, i) => {
    for (let x = 0; x < f.frameWidth; x++) {
      const index = indices[i * f.frameWidth + x]!;
      if (index === f.transparentIndex) continue;
      const p = ((f.y + row) * f.width + f.x + x) * 4;
      if (index < colours) data.set(f.palette.subarray(index * 3, index * 3 + 3), p); // else black, as browsers show it
      data[p + 3] = 255;
    }
  });
  return { width: f.width, height: f.height, data };
}

/** The canvas row of each stored row of an interlaced frame: rows 0, 8, 16..., then 4, 12..., 2, 6..., 1, 3... */
function interlacedRows(height: number): number[] {
  const rows: number[] = [];
  for (const [start, step] of [
    [0, 8],
    [4, 8],
    [2, 4],
    [1, 2],
  ] as const) {
    for (let y = start; y < height; y += step) rows.push(y);
  }
  return rows;
}
