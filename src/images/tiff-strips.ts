import { inflateSync } from 'node:zlib';

/**
 * Decompression of TIFF strips (or tiles) for the codecs utif2 gets dangerously wrong: its LZW
 * decoder keeps its code table between calls and can loop forever on damaged data, and it inflates
 * Deflate strips with no bound (a few MB can inflate to gigabytes). Each strip here decompresses to
 * at most `maxBytes`, the strip's share of the image, and must fill at least `minBytes` (its rows).
 */

export const LZW = 5;
export const PACKBITS = 32773;
export const DEFLATE = new Set([8, 32946]);

export function decompressesHere(compression: number): boolean {
  return compression === LZW || compression === PACKBITS || DEFLATE.has(compression);
}

export function decompressStrip(data: Uint8Array, compression: number, minBytes: number, maxBytes: number): Uint8Array {
  let out: Uint8Array;
  if (compression === LZW) out = lzw(data, maxBytes);
  else if (compression === PACKBITS) out = packBits(data, maxBytes);
  else out = inflate(data, maxBytes);
  if (out.length < minBytes) throw new Error(`a strip decompresses to ${out.length} of its ${minBytes} bytes`);
  return out;
}

function inflate(data: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return inflateSync(data, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(`a strip inflates to more than the ${maxBytes} bytes of its share of the image`);
    }
    throw err;
  }
}

/** PackBits: a count byte n, then n + 1 literal bytes (n >= 0) or one byte repeated 1 - n times (n < 0; -128 is a no-op). */
function packBits(data: Uint8Array, maxBytes: number): Uint8Array {
  const out = new Uint8Array(maxBytes);
  let o = 0;
  for (let i = 0; i < data.length && o < maxBytes; ) {
    const n = (data[i++]! << 24) >> 24;
    if (n >= 0) {
      const literal = data.subarray(i, Math.min(data.length, i + n + 1, i + maxBytes - o));
      out.set(literal, o);
      o += literal.length;
      i += n + 1;
    } else if (n !== -128) {
      const value = data[i++];
      if (value === undefined) break;
      const run = Math.min(1 - n, maxBytes - o);
      out.fill(value, o, o + run);
      o += run;
    }
  }
  return out.subarray(0, o);
}

/**
 * TIFF's LZW: codes read most significant bit first, 256 = clear, 257 = end, widths 9-12 bits, the
 * width growing one code early (when the next entry is the last one the width can name). A table
 * entry only ever points at an earlier one; a code that names no entry yet is an error.
 */
function lzw(data: Uint8Array, maxBytes: number): Uint8Array {
  const CLEAR = 256;
  const END = 257;
  const prefix = new Uint16Array(4096);
  const suffix = new Uint8Array(4096);
  const head = new Uint8Array(4096);
  const length = new Uint16Array(4096);
  for (let c = 0; c < 256; c++) {
    suffix[c] = c;
    head[c] = c;
    length[c] = 1;
  }
  const out = new Uint8Array(maxBytes);
  let o = 0;
  let next = 258;
  let width = 9;
  let previous = -1;
  let bits = 0;
  let bitCount = 0;
  let at = 0;

  /** Writes the string of `code` (its chain walked backwards from the last byte), clipped to `out`. */
  const emit = (code: number) => {
    let c = code;
    for (let i = length[code]! - 1; i >= 0; i--) {
      if (o + i < maxBytes) out[o + i] = suffix[c]!;
      c = prefix[c]!;
    }
    o += length[code]!;
  };

  while (o < maxBytes) {
    while (bitCount < width && at < data.length) {
      bits = ((bits << 8) | data[at++]!) & 0xffffff;
      bitCount += 8;
    }
    if (bitCount < width) break; // no end code: the data simply stops
    const code = (bits >>> (bitCount - width)) & ((1 << width) - 1);
    bitCount -= width;

    if (code === CLEAR) {
      next = 258;
      width = 9;
      previous = -1;
      continue;
    }
    if (code === END) break;
    if (previous === -1) {
      if (code > 255) throw new Error(`LZW code ${code} where a byte must come`);
      emit(code);
      previous = code;
      continue;
    }
    if (code > next) throw new Error(`LZW code ${code} is not in the table (next is ${next})`);
    if (next < 4096) {
      // The new entry: the previous string plus the first byte of this one (for code === next, that
      // first byte is the previous string's own).
      prefix[next] = previous;
      suffix[next] = code === next ? head[previous]! : head[code]!;
      head[next] = head[previous]!;
      length[next] = length[previous]! + 1;
      next++;
      if (next === (1 << width) - 1 && width < 12) width++;
    }
    emit(code);
    previous = code;
  }
  return out.subarray(0, Math.min(o, maxBytes));
}
