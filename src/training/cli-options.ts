import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The command-line options every training CLI (train-mnist, train-fashion) takes, and the loop
 * that parses them: `--epochs N`, `--out DIR`, `--limit N`, `--batch-size N` here, each CLI's own
 * flags through a callback. Errors are thrown with the messages the CLIs print.
 */

export interface CommonCliOptions {
  epochs: number;
  /** Where the model + metadata.json are saved (absolute). */
  out: string;
  /** Train on at most this many images (for quick runs). */
  limit?: number;
  batchSize: number;
}

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

/** The default --out of a CLI: <project root>/model-store/<model>/1. */
export function defaultOutDir(model: string): string {
  return path.join(projectRoot(), 'model-store', model, '1');
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

/**
 * A CLI's own flags: sets `options` from `flag` (and `value`, the next argument) and returns
 * 'value' if it took the value, 'flag' for a flag without one, undefined for a flag it does not know.
 */
export type ParseFlag<T> = (flag: string, value: string | undefined, options: T) => 'value' | 'flag' | undefined;

/**
 * Parses `argv` into `defaults` (modified and returned): the common flags, then `parseOwn` for
 * the CLI's own; any other argument throws `unknown argument "X" (use <usage>)`.
 */
export function parseCliArgs<T extends CommonCliOptions>(argv: string[], defaults: T, usage: string, parseOwn: ParseFlag<T>): T {
  const options = defaults;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--epochs':
        options.epochs = positiveInteger(flag, value);
        break;
      case '--limit':
        options.limit = positiveInteger(flag, value);
        break;
      case '--batch-size':
        options.batchSize = positiveInteger(flag, value);
        break;
      case '--out':
        options.out = directoryArg(flag, value);
        break;
      default: {
        const took = parseOwn(flag, value, options);
        if (took === undefined) throw new Error(`unknown argument "${flag}" (use ${usage})`);
        if (took === 'flag') continue;
      }
    }
    i++;
  }
  return options;
}
