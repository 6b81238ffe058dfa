import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Jimp, PNGFilterType } from 'jimp';
import { runCli } from './cli-run';
import { directoryArg, projectRoot } from './cli-options';
import { CANVAS, digitsOf, makeCompositeSpecs, renderComposite, type CompositeSpec } from './composite-digits';
import { loadMnistSplit, SPLIT_SEED } from './mnist-data';

/**
 * CLI: `node dist/src/training/multilabel-fixtures.js [--out DIR]` writes the multi-label test
 * fixtures (default <project root>/test/fixtures/multilabel): composites of HELD-OUT MNIST digits
 * only (never trained on), as PNG, named by their digits (`3-7.png`, `0-4-9.png`), plus a few
 * drawn dark on white at twice the size (`2-5-inverted.png`) and manifest.json. Reproducible:
 * the same files every run.
 */

export const FIXTURE_SEED = 20250704;
export const FIXTURE_COUNT = 20;
export const INVERTED_COUNT = 4;

export interface Fixture {
  file: string;
  spec: CompositeSpec;
  /** Dark digits on white (the serving path's `invert: auto` must turn it back). */
  inverted: boolean;
  /** Each canvas pixel drawn as scale x scale pixels. */
  scale: number;
}

/** The digits a fixture's file name lists: `0-4-9.png` and `0-4-9-inverted.png` -> [0, 4, 9]. */
export function digitsFromName(file: string): number[] {
  const match = /^(\d(?:-\d)*)(?:-inverted)?\.png$/.exec(path.basename(file));
  if (!match) throw new Error(`${file}: not a multi-label fixture name (e.g. 3-7.png)`);
  return match[1]!.split('-').map(Number);
}

/**
 * FIXTURE_COUNT composites with distinct digit sets, then INVERTED_COUNT more (other digit sets)
 * to draw inverted, all from the held-out digits with FIXTURE_SEED.
 */
export function fixtureSet(): Fixture[] {
  const { heldOut } = loadMnistSplit();
  const out: Fixture[] = [];
  const names = new Set<string>();
  for (const spec of makeCompositeSpecs(heldOut, 500, FIXTURE_SEED)) {
    const name = digitsOf(spec).join('-');
    if (names.has(name)) continue;
    names.add(name);
    const inverted = out.length >= FIXTURE_COUNT;
    out.push({ file: `${name}${inverted ? '-inverted' : ''}.png`, spec, inverted, scale: inverted ? 2 : 1 });
    if (out.length === FIXTURE_COUNT + INVERTED_COUNT) return out;
  }
  throw new Error('not enough distinct digit sets');
}

/** A CANVAS x CANVAS image (0..1, light on dark) as PNG bytes, scaled up `scale` times, optionally dark on white. */
export async function compositePng(pixels: Float32Array, scale = 1, invert = false): Promise<Uint8Array> {
  const side = CANVAS * scale;
  const image = new Jimp({ width: side, height: side });
  const data = image.bitmap.data;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = pixels[Math.floor(y / scale) * CANVAS + Math.floor(x / scale)]!;
      const level = Math.round((invert ? 1 - v : v) * 255);
      data.set([level, level, level, 255], (y * side + x) * 4);
    }
  }
  // No row filters: the files stay small anyway and encoding is fast (also inside Jest's VM).
  return image.getBuffer('image/png', { filterType: PNGFilterType.NONE });
}

export async function main(argv: string[]): Promise<void> {
  let dir = path.join(projectRoot(), 'test', 'fixtures', 'multilabel');
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] !== '--out') throw new Error(`unknown argument "${argv[i]}" (use --out DIR)`);
    dir = directoryArg('--out', argv[i + 1]);
  }
  const { heldOut } = loadMnistSplit();
  const fixtures = fixtureSet();
  await fs.mkdir(dir, { recursive: true });
  const manifest = [];
  for (const f of fixtures) {
    await fs.writeFile(path.join(dir, f.file), await compositePng(renderComposite(f.spec), f.scale, f.inverted));
    manifest.push({
      file: f.file,
      digits: digitsOf(f.spec),
      size: CANVAS * f.scale,
      inverted: f.inverted,
      placements: f.spec.placements.map((p) => ({ digit: p.digit.label, heldOutIndex: heldOut.indexOf(p.digit), cell: p.cell, x: p.x, y: p.y })),
    });
  }
  const note =
    `Composites of held-out digits of loadMnistSplit() (split seed ${SPLIT_SEED}), composite seed ${FIXTURE_SEED}; ` +
    'made by src/training/multilabel-fixtures.ts. x, y: top-left corner of the 28x28 digit on the 56x56 canvas (before scaling).';
  // One line per fixture.
  const lines = manifest.map((m) => `    ${JSON.stringify(m)}`).join(',\n');
  await fs.writeFile(path.join(dir, 'manifest.json'), `{\n  "note": ${JSON.stringify(note)},\n  "fixtures": [\n${lines}\n  ]\n}\n`);
  console.log(`wrote ${fixtures.length} fixtures + manifest.json to ${dir}`);
}

if (require.main === module) runCli(main);
