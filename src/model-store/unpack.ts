import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Parser, ReadEntry, Unpack } from 'tar';

/** How much an archive may hold once unpacked (a small .tar.gz can expand enormously). */
export interface UnpackLimits {
  maxBytes: number;
  /** Default 10,000: a model is a handful of files. */
  maxEntries?: number;
}

/** Only these become files on disk: no links, devices or FIFOs from an archive we did not make. */
const PLAIN = new Set<string>(['File', 'OldFile', 'ContiguousFile', 'Directory']);

function refusal(entry: ReadEntry): string | undefined {
  const name = JSON.stringify(entry.path);
  if (!PLAIN.has(entry.type)) return `${name} is a ${entry.type} entry; only plain files and folders are unpacked`;
  if (entry.path.startsWith('/') || /^[A-Za-z]:/.test(entry.path)) return `${name} is an absolute path`;
  if (entry.path.includes('\\')) return `${name} contains a backslash`;
  if (entry.path.split('/').includes('..')) return `${name} climbs out of the folder with '..'`;
  return undefined;
}

/** Reads `archive` through `parser`, resolving when the parser has seen its end. */
function readThrough(archive: string, parser: Parser | Unpack): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const source = createReadStream(archive);
    parser.on('error', (e: Error) => {
      source.destroy();
      reject(e);
    });
    parser.on('close', () => resolve());
    source.on('error', reject);
    source.pipe(parser);
  });
}

/**
 * Reads every header of `archive` without writing anything and returns the first reason to
 * refuse it. Checking before unpacking matters: tar writes files asynchronously, and an unpack
 * stopped halfway would still be writing into the folder while the caller deletes it.
 */
async function refusalIn(archive: string, limits: UnpackLimits): Promise<string | undefined> {
  const maxEntries = limits.maxEntries ?? 10_000;
  let bytes = 0;
  let entries = 0;
  let refused: string | undefined;
  const parser = new Parser({
    strict: true, // any tar warning (bad header, unsupported entry) is an error
    onReadEntry: (entry) => {
      if (!refused) {
        bytes += entry.type === 'Directory' ? 0 : entry.size;
        refused =
          refusal(entry) ??
          (++entries > maxEntries ? `more than ${maxEntries} entries` : undefined) ??
          (bytes > limits.maxBytes ? `more than ${limits.maxBytes} bytes once unpacked` : undefined);
        if (refused) parser.abort(new Error(refused));
      }
      entry.resume();
    },
  });
  try {
    await readThrough(archive, parser);
  } catch (e) {
    return refused ?? (e as Error).message;
  }
  return refused;
}

/**
 * Unpacks a .tar.gz (or plain .tar) into the existing, empty folder `into`. An archive with an
 * entry that is not a plain file or folder, has an absolute path or `..`, or that takes the total
 * past `limits.maxBytes` is refused before anything is written, with an error naming the entry.
 * tar itself would skip such entries with a warning; here the archive is refused outright,
 * because a model archive that tries any of this is not one to serve. The unpack repeats the
 * checks (the file is ours, but the filter costs nothing). File times are not restored
 * (noMtime), so the folder's times say when it was installed.
 */
export async function unpackArchive(archive: string, into: string, limits: UnpackLimits): Promise<void> {
  const refused = await refusalIn(archive, limits);
  if (refused) throw new Error(`archive ${path.basename(archive)} refused: ${refused}`);
  const unpack = new Unpack({
    cwd: into,
    strict: true,
    preserveOwner: false,
    noMtime: true,
    filter: (_path, entry) => entry instanceof ReadEntry && refusal(entry) === undefined,
  });
  try {
    await readThrough(archive, unpack);
  } catch (e) {
    throw new Error(`archive ${path.basename(archive)} could not be unpacked: ${(e as Error).message}`);
  }
}

/** Names that archivers add beside the content (macOS resource forks, dot-files). */
const isClutter = (name: string) => name.startsWith('.') || name === '__MACOSX';

/** A model file of either format: TF.js layers or ONNX (checked as untrusted when it loads). */
const hasModel = (names: string[]) => names.includes('model.json') || names.includes('model.onnx');

/**
 * The folder inside an unpacked archive that holds model.json or model.onnx: the top itself, or
 * its one top folder (archives made with `tar czf model.tgz mymodel/` are common).
 */
export async function findModelRoot(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => !isClutter(n));
  if (hasModel(names)) return dir;
  if (names.length === 1 && (await stat(path.join(dir, names[0]!))).isDirectory()) {
    const inner = path.join(dir, names[0]!);
    if (hasModel(await readdir(inner))) return inner;
  }
  throw new Error(`the archive has no model.json or model.onnx at its top or inside one top folder (it holds: ${names.slice(0, 10).join(', ') || 'nothing'})`);
}
