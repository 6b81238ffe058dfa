import { HeaderError, need, reader, startsWith, type Reader } from './binary';

/**
 * The structure TIFF files and EXIF blocks share: "II*\0" or "MM\0*", then image file directories
 * (IFDs) of 12-byte entries. Only what the header checks need is read: numeric tags of one IFD.
 */

const TYPE_SIZE: Record<number, number> = { 1: 1, 3: 2, 4: 4 }; // BYTE, SHORT, LONG

export interface IfdEntry {
  tag: number;
  type: number;
  count: number;
  /** Where the entry starts (its value field is at +8). */
  at: number;
}

export interface Ifd {
  entries: Map<number, IfdEntry>;
  /** Byte offset of the "next IFD" pointer that ends this IFD. */
  nextIfdPointerAt: number;
}

/** The byte order and the first IFD's offset; `undefined` when `b` does not start with a TIFF header. */
export function tiffStructure(b: Uint8Array): { r: Reader; firstIfd: number } | undefined {
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00])) return { r: reader(b, true), firstIfd: reader(b, true).u32(4) };
  if (startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) return { r: reader(b, false), firstIfd: reader(b, false).u32(4) };
  return undefined;
}

export function readIfd(b: Uint8Array, r: Reader, offset: number): Ifd {
  const count = r.u16(offset);
  const nextIfdPointerAt = offset + 2 + count * 12;
  need(b, nextIfdPointerAt + 4, 'end of the first IFD');
  const entries = new Map<number, IfdEntry>();
  for (let i = 0; i < count; i++) {
    const at = offset + 2 + i * 12;
    const tag = r.u16(at);
    if (!entries.has(tag)) entries.set(tag, { tag, type: r.u16(at + 2), count: r.u32(at + 4), at });
  }
  return { entries, nextIfdPointerAt };
}

/** The values of a BYTE, SHORT or LONG entry (inline when they fit in 4 bytes, else at the offset given). */
export function entryValues(b: Uint8Array, r: Reader, entry: IfdEntry): number[] {
  const size = TYPE_SIZE[entry.type];
  if (size === undefined) throw new HeaderError(`tag ${entry.tag} has type ${entry.type}, not a whole number`);
  const bytes = entry.count * size;
  const base = bytes <= 4 ? entry.at + 8 : r.u32(entry.at + 8);
  need(b, base + bytes, `values of tag ${entry.tag}`);
  const read = size === 1 ? (at: number) => b[at]! : size === 2 ? r.u16 : r.u32;
  return Array.from({ length: entry.count }, (_, i) => read(base + i * size));
}

/** The values of `tag`, or `fallback` when the IFD does not have it. */
export function tagValues(b: Uint8Array, r: Reader, ifd: Ifd, tag: number, fallback: number[] = []): number[] {
  const entry = ifd.entries.get(tag);
  return entry === undefined ? fallback : entryValues(b, r, entry);
}
