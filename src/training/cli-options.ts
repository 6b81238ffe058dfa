import { existsSync } from 'node:fs';
import * as path from 'node:path';

// Arguments of the fixture-making scripts (multilabel-fixtures.ts, make-composite-csv.ts).

/** The folder holding package.json, searched upwards from this file (src/ or dist/src/). */
export function projectRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** `value` as a positive integer, or an error naming `flag`. */
export function positiveInteger(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got "${value ?? ''}"`);
  return n;
}

/** `value` resolved to an absolute path, or `${flag} needs a ${what}` if it is missing. */
export function directoryArg(flag: string, value: string | undefined, what = 'directory'): string {
  if (!value) throw new Error(`${flag} needs a ${what}`);
  return path.resolve(value);
}
