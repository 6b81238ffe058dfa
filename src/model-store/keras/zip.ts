import { createWriteStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createInflateRaw, inflateRawSync } from 'node:zlib';

/**
 * A minimal ZIP reader for `.keras` files (Keras 3 writes config.json, metadata.json and
 * model.weights.h5 into a zip). It reads the central directory only and never trusts it:
 * member names that could leave a folder (`..`, absolute, drive letters, backslashes) refuse the
 * whole file, and declared sizes are checked against the file and a ratio deflate cannot exceed
 * before anything is inflated; inflating stops at the declared size (a zip bomb cannot grow past
 * it). Stored and deflated members only; no ZIP64 (a .keras over 4 GB is far past the limit).
 */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the local header. */
  offset: number;
}

export class ZipError extends Error {}

/** Deflate's best case is about 1032:1; a member declaring more lies about its size. */
const MAX_RATIO = 1100;
const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** Why a member name is refused, or undefined when it is a plain relative path. */
function unsafeName(name: string): string | undefined {
  if (name.includes('\\')) return 'has a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  if (name.split('/').includes('..')) return 'climbs out of the archive with ..';
  if (name.includes('\0')) return 'has a NUL character';
  return undefined;
}

export class ZipFile {
  private constructor(
    private readonly handle: FileHandle,
    readonly entries: ReadonlyMap<string, ZipEntry>,
  ) {}

  /** Opens and checks the archive; throws ZipError saying what is wrong. */
  static async open(file: string): Promise<ZipFile> {
    const handle = await open(file, 'r');
    try {
      return new ZipFile(handle, await ZipFile.directory(handle));
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  private static async directory(handle: FileHandle): Promise<Map<string, ZipEntry>> {
    const { size: fileSize } = await handle.stat();
    const tailLength = Math.min(fileSize, 22 + 0xffff);
    const tail = await readAt(handle, fileSize - tailLength, tailLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipError('not a zip archive (no end of central directory)');
    const count = tail.readUInt16LE(eocd + 10);
    const dirSize = tail.readUInt32LE(eocd + 12);
    const dirOffset = tail.readUInt32LE(eocd + 16);
    if (dirOffset === 0xffffffff || count === 0xffff) throw new ZipError('ZIP64 archives are not supported');
    if (dirOffset + dirSize > fileSize) throw new ZipError('truncated: the central directory lies past the end of the file');
    const dir = await readAt(handle, dirOffset, dirSize);
    const entries = new Map<string, ZipEntry>();
    let at = 0;
    let declared = 0;
    for (let i = 0; i < count; i++) {
      if (at + 46 > dir.length || dir.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new ZipError('corrupt central directory');
      const flags = dir.readUInt16LE(at + 8);
      const method = dir.readUInt16LE(at + 10);
      const compressedSize = dir.readUInt32LE(at + 20);
      const size = dir.readUInt32LE(at + 24);
      const nameLength = dir.readUInt16LE(at + 28);
      const extraLength = dir.readUInt16LE(at + 30);
      const commentLength = dir.readUInt16LE(at + 32);
      const offset = dir.readUInt32LE(at + 42);
      const name = dir.subarray(at + 46, at + 46 + nameLength).toString('utf8');
      at += 46 + nameLength + extraLength + commentLength;
      const unsafe = unsafeName(name);
      if (unsafe) throw new ZipError(`member ${JSON.stringify(name)} ${unsafe}`);
      if (flags & 1) throw new ZipError(`member ${name} is encrypted`);
      if (name.endsWith('/')) continue;
      if (method !== 0 && method !== 8) throw new ZipError(`member ${name} uses compression method ${method} (only stored and deflate are read)`);
      if (offset + compressedSize > fileSize) throw new ZipError(`truncated: member ${name} lies past the end of the file`);
      if (method === 0 && size !== compressedSize) throw new ZipError(`member ${name} is stored but declares ${size} bytes for ${compressedSize}`);
      if (size > Math.max(compressedSize, 1) * MAX_RATIO) {
        throw new ZipError(`member ${name} declares ${size} bytes from ${compressedSize} compressed (a zip bomb or a corrupt header)`);
      }
      declared += size;
      if (entries.has(name)) throw new ZipError(`member ${name} appears twice`);
      entries.set(name, { name, method, compressedSize, size, offset });
    }
    if (declared > fileSize * MAX_RATIO) throw new ZipError(`its members declare ${declared} bytes from a ${fileSize}-byte file (a zip bomb)`);
    return entries;
  }

  /** Where a member's data starts (after its local header). */
  private async dataOffset(entry: ZipEntry): Promise<number> {
    const local = await readAt(this.handle, entry.offset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new ZipError(`member ${entry.name}: corrupt local header`);
    return entry.offset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  }

  /** A small member in memory, at most `maxBytes` (checked on the declared size first). */
  async read(name: string, maxBytes: number): Promise<Buffer> {
    const entry = this.entries.get(name);
    if (!entry) throw new ZipError(`has no ${name}`);
    if (entry.size > maxBytes) throw new ZipError(`member ${name} declares ${entry.size} bytes, more than the ${maxBytes} allowed`);
    const raw = await readAt(this.handle, await this.dataOffset(entry), entry.compressedSize);
    if (raw.length < entry.compressedSize) throw new ZipError(`truncated: member ${name}`);
    let data: Buffer;
    try {
      data = entry.method === 0 ? raw : inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
    } catch (e) {
      throw new ZipError(`member ${name} does not inflate to its declared ${entry.size} bytes (${(e as Error).message})`);
    }
    if (data.length !== entry.size) throw new ZipError(`member ${name} inflates to ${data.length} bytes, not the declared ${entry.size}`);
    return data;
  }

  /** Streams a member into `target`, stopping with an error past its declared size. */
  async extract(name: string, target: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) throw new ZipError(`has no ${name}`);
    const start = await this.dataOffset(entry);
    if (entry.compressedSize === 0) {
      if (entry.size !== 0) throw new ZipError(`member ${name} declares ${entry.size} bytes but stores none`);
      await pipeline([Readable.from([]), createWriteStream(target)]);
      return;
    }
    const source = this.handle.createReadStream({ start, end: start + entry.compressedSize - 1, autoClose: false });
    let written = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
        written += chunk.length;
        if (written > entry.size) done(new ZipError(`member ${name} inflates past its declared ${entry.size} bytes (a zip bomb)`));
        else done(null, chunk);
      },
    });
    const stages = entry.method === 0 ? [source, cap] : [source, createInflateRaw(), cap];
    try {
      await pipeline([...stages, createWriteStream(target)]);
    } catch (e) {
      if (e instanceof ZipError) throw e;
      throw new ZipError(`member ${name} cannot be extracted (${(e as Error).message})`);
    }
    if (written !== entry.size) throw new ZipError(`member ${name} holds ${written} bytes, not the declared ${entry.size}`);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
