import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './cli-run';
import { directoryArg, positiveInteger } from './cli-options';
import { digitsOf, makeCompositeSpecs, renderComposite } from './composite-digits';
import { loadMnistSplit } from './mnist-data';
import { compositePng } from './multilabel-fixtures';

/**
 * CLI: `node dist/src/training/make-composite-csv.js --out DIR [--train N] [--test N]` writes a
 * multi-label data set in the seed FastAPI tutorial's layout, for `specserve train` with
 * `source: csv`: 56x56 PNG composites of 1-3 distinct MNIST digits (composite-digits.ts) in
 * DIR/images/, and DIR/train.csv / DIR/test.csv with one row per image: `image` (file name),
 * `digits` (free text) and one 0/1 column per digit `0`..`9`. Training composites use only the
 * training part of loadMnistSplit(), test composites only its held-out digits. Reproducible.
 */

export const TRAIN_SEED = 20250801;
export const TEST_SEED = 20250802;

async function writeSet(dir: string, name: 'train' | 'test', count: number): Promise<string> {
  const { train, heldOut } = loadMnistSplit();
  const specs = makeCompositeSpecs(name === 'train' ? train : heldOut, count, name === 'train' ? TRAIN_SEED : TEST_SEED);
  await fs.mkdir(path.join(dir, 'images', name), { recursive: true });
  const rows: string[] = [];
  for (const [i, spec] of specs.entries()) {
    const file = `${name}/${String(i).padStart(5, '0')}.png`;
    await fs.writeFile(path.join(dir, 'images', file), await compositePng(renderComposite(spec)));
    const present = digitsOf(spec);
    rows.push(`${file},"${present.join(' ')}",${Array.from({ length: 10 }, (_, k) => (present.includes(k) ? 1 : 0)).join(',')}`);
  }
  const csv = path.join(dir, `${name}.csv`);
  await fs.writeFile(csv, `image,digits,${Array.from({ length: 10 }, (_, k) => k).join(',')}\n${rows.join('\n')}\n`);
  return csv;
}

export async function main(argv: string[]): Promise<void> {
  let out: string | undefined;
  let trainCount = 3000;
  let testCount = 1000;
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--out') out = directoryArg(flag, value);
    else if (flag === '--train') trainCount = positiveInteger(flag, value);
    else if (flag === '--test') testCount = positiveInteger(flag, value);
    else throw new Error(`unknown argument "${flag}" (use --out DIR, --train N, --test N)`);
  }
  if (!out) throw new Error('--out DIR is required');
  console.log(`wrote ${await writeSet(out, 'train', trainCount)} (${trainCount} images)`);
  console.log(`wrote ${await writeSet(out, 'test', testCount)} (${testCount} images)`);
}

if (require.main === module) runCli(main);
