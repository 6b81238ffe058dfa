/**
 * Bounds-checked readers for image headers. Every read past the end throws `HeaderError`, so a
 * truncated header surfaces as one typed error instead of `undefined` arithmetic.
 */

/** The header ends early or contradicts itself: the sniffer turns it into `UndecodableImage` (400). */
export class HeaderError extends Error {}

/**
 * The image data, decoded by this project's own code, is corrupt in a way its message explains to
 * the client (decode.ts answers it in the 400); a library's own error text is logged instead.
 */
export class DataError extends Error {}

/**
 * A recognised format in a variant that no decoder here reads (arithmetic-coded JPEG, planar TIFF,
 * ...): the sniffer turns it into `UnsupportedImage` (415). The message names the variant.
 */
export class UnsupportedVariant extends Error {}

export function need(b: Uint8Array, end: number, what = 'end of the header'): void {
  if (end > b.length) throw new HeaderError(`it ends at byte ${b.length}, before the ${what}`);
}

export function u8(b: Uint8Array, at: number): number {
  need(b, at + 1);
  return b[at]!;
}

export function u16le(b: Uint8Array, at: number): number {
  need(b, at + 2);
  return b[at]! | (b[at + 1]! << 8);
}

export function u16be(b: Uint8Array, at: number): number {
  need(b, at + 2);
  return (b[at]! << 8) | b[at + 1]!;
}

export function u32le(b: Uint8Array, at: number): number {
  need(b, at + 4);
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

export function u32be(b: Uint8Array, at: number): number {
  need(b, at + 4);
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function i32le(b: Uint8Array, at: number): number {
  return u32le(b, at) | 0;
}

/** 16- and 32-bit reads in one byte order (TIFF and EXIF say which in their first two bytes). */
export interface Reader {
  readonly littleEndian: boolean;
  u16(at: number): number;
  u32(at: number): number;
}

export function reader(b: Uint8Array, littleEndian: boolean): Reader {
  return littleEndian
    ? { littleEndian, u16: (at) => u16le(b, at), u32: (at) => u32le(b, at) }
    : { littleEndian, u16: (at) => u16be(b, at), u32: (at) => u32be(b, at) };
}

export function startsWith(b: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (b.length < at + prefix.length) return false;
  return prefix.every((x, i) => b[at + i] === x);
}

export function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

export function positive(width: number, height: number): void {
  if (width <= 0 || height <= 0) throw new HeaderError(`it declares a ${width}x${height} image`);
}
