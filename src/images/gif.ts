import { HeaderError, need, positive, u16le, u8 } from './binary';
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
 * GIF header: the canvas the first frame is drawn on (the logical screen, grown to hold the frame).
 * Decoded by libvips (first frame) or, on the jimp path, by jimp's omggif in a decode thread with a
 * time bound, because omggif loops forever on some damaged LZW data (decode-thread.ts).
 */
export function probeGif(b: Uint8Array): Probe {
  const frame = readFirstFrame(b);
  const partial = frame.x > 0 || frame.y > 0 || frame.frameWidth < frame.width || frame.frameHeight < frame.height;
  return { header: { format: 'gif', width: frame.width, height: frame.height, ...(partial ? { partialFrame: true } : {}) } };
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
