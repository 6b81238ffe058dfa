import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * One weight group of a TF.js model.json: its weights are stored back to back and split across
 * `paths` (the converter's shards, 4 MB each by default). The split point is the converter's
 * choice, so only the group's total is implied by the manifest, not each shard's size.
 */
export interface WeightGroup {
  paths: string[];
  /** Bytes the group's shards must add up to: the sum over its weights of elements x bytes per element. */
  bytes: number;
}

const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8, float16: 2, uint8: 1, uint16: 2, int8: 1, int16: 2 };

/** A shard name that stays in the model's folder: no sub-folders, no `..`, not hidden. */
const SHARD_NAME = /^(\.\/)?[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The weight groups a parsed model.json names, with the bytes each must hold. Quantized weights
 * count at their stored dtype (`quantization.dtype`). Throws, naming `where` and the field, for a
 * manifest this server would not load: shard paths outside the folder, string weights (no fixed
 * size), unknown dtypes.
 */
export function weightGroups(modelJson: unknown, where: string): WeightGroup[] {
  if (!isObject(modelJson)) throw new Error(`${where}: not a JSON object`);
  const manifest = modelJson.weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new Error(`${where}: weightsManifest is not a list`);
  return manifest.map((group: unknown, g) => {
    const at = `${where}: weightsManifest[${g}]`;
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) throw new Error(`${at} needs paths and weights lists`);
    const paths = group.paths.map((p: unknown) => {
      if (typeof p !== 'string' || !SHARD_NAME.test(p)) throw new Error(`${at}.paths: ${JSON.stringify(p)} is not a file name in the model's folder`);
      return p.replace(/^\.\//, '');
    });
    const bytes = group.weights.reduce((sum: number, weight: unknown, w) => {
      if (!isObject(weight) || !Array.isArray(weight.shape) || typeof weight.dtype !== 'string') throw new Error(`${at}.weights[${w}] needs shape and dtype`);
      const quantization = isObject(weight.quantization) ? weight.quantization : undefined;
      const stored = typeof quantization?.dtype === 'string' ? quantization.dtype : weight.dtype;
      const size = BYTES_PER_ELEMENT[stored];
      if (size === undefined) throw new Error(`${at}.weights[${w}] (${String(weight.name)}): dtype ${stored} has no fixed size; not supported`);
      const elements = weight.shape.reduce((n: number, d: unknown) => {
        if (!Number.isSafeInteger(d) || (d as number) < 0) throw new Error(`${at}.weights[${w}] (${String(weight.name)}): shape has ${JSON.stringify(d)}`);
        return n * (d as number);
      }, 1);
      return sum + elements * size;
    }, 0);
    return { paths, bytes };
  });
}

/** Reads and parses `<dir>/model.json`, naming the file in any error. */
export async function readModelJson(dir: string): Promise<unknown> {
  const file = path.join(dir, 'model.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (e) {
    throw new Error(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not readable JSON (${(e as Error).message})`}`);
  }
}

/**
 * Checks a folder is a complete model version before it is installed: model.json and
 * metadata.json are there, and every weight group's shards exist and add up to the bytes its
 * shapes and dtypes imply (a truncated or padded shard would load as garbage or not at all).
 */
export async function checkModelFolder(dir: string, label: string): Promise<void> {
  const groups = weightGroups(await readModelJson(dir), `${label}/model.json`);
  try {
    await stat(path.join(dir, 'metadata.json'));
  } catch {
    throw new Error(`${label}: metadata.json is missing (the server needs it beside model.json: input shape, labels, preprocessing)`);
  }
  for (const [g, group] of groups.entries()) {
    let actual = 0;
    for (const shard of group.paths) {
      try {
        actual += (await stat(path.join(dir, shard))).size;
      } catch {
        throw new Error(`${label}: weight file ${shard} named in model.json is missing`);
      }
    }
    if (actual !== group.bytes) {
      throw new Error(`${label}: weightsManifest[${g}] files (${group.paths.join(', ')}) hold ${actual} bytes, but its shapes and dtypes need ${group.bytes}`);
    }
  }
}
