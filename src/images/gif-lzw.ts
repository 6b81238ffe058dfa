/**
 * GIF's variable-length LZW decoder, written here because omggif's (jimp's GIF codec) loops forever
 * on some damaged streams: it follows code-table chains that corrupt codes can make circular. Here a
 * table entry only ever points at an earlier one, and a code that names no entry yet is an error.
 */

const MAX_CODES = 4096;

/**
 * Decodes `data` (the frame's data sub-blocks, concatenated) into `out`, one colour index per pixel.
 * Returns how many indices were written; output past `out.length` is dropped, as browsers do.
 * Throws on a code that is neither in the table nor the next one to be added.
 */
export function lzwDecode(data: Uint8Array, minCodeSize: number, out: Uint8Array): number {
  if (minCodeSize < 1 || minCodeSize > 8) throw new Error(`LZW minimum code size ${minCodeSize}`);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  // Entry c is the string of entry prefix[c] followed by suffix[c]; head[c] is its first byte.
  const prefix = new Uint16Array(MAX_CODES);
  const suffix = new Uint8Array(MAX_CODES);
  const head = new Uint8Array(MAX_CODES);
  const length = new Uint16Array(MAX_CODES);
  for (let c = 0; c < clear; c++) {
    suffix[c] = c;
    head[c] = c;
    length[c] = 1;
  }
  let next = end + 1;
  let size = minCodeSize + 1;
  let previous = -1;
  let written = 0;
  let bits = 0;
  let bitCount = 0;
  let at = 0;

  /** Writes the string of `code`, walking its chain backwards from the last byte. */
  const emit = (code: number): void => {
    let c = code;
    for (let i = length[code]! - 1; i >= 0; i--) {
      if (written + i < out.length) out[written + i] = suffix[c]!;
      c = prefix[c]!;
    }
    written += length[code]!;
  };

  while (written < out.length) {
    while (bitCount < size && at < data.length) {
      bits |= data[at++]! << bitCount;
      bitCount += 8;
    }
    if (bitCount < size) break; // data ended without an end code
    const code = bits & ((1 << size) - 1);
    bits >>>= size;
    bitCount -= size;

    if (code === clear) {
      next = end + 1;
      size = minCodeSize + 1;
      previous = -1;
      continue;
    }
    if (code === end) break;
    if (previous === -1) {
      if (code >= clear) throw new Error(`LZW code ${code} where a colour index must come`);
      emit(code);
      previous = code;
      continue;
    }
    // The new entry: the previous string plus the first byte of this one (which, for the entry not
    // yet in the table, is the previous string's first byte).
    let first: number;
    if (code < next) {
      first = head[code]!;
      emit(code);
    } else if (code === next) {
      first = head[previous]!;
      emit(previous);
      if (written < out.length) out[written] = first;
      written += 1;
    } else {
      throw new Error(`LZW code ${code} is not in the table (next is ${next})`);
    }
    if (next < MAX_CODES) {
      prefix[next] = previous;
      suffix[next] = first;
      head[next] = head[previous]!;
      length[next] = length[previous]! + 1;
      next++;
      if (next === 1 << size && size < 12) size++;
    }
    previous = code;
  }
  return Math.min(written, out.length);
}
