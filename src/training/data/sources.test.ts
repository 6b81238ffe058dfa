import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_IMAGE_LIMITS, prepareInput } from '../../images';
import { readIdxFile } from '../idx';
import { mulberry32 } from '../prng';
import { bestThresholds, multiLabelReport, rocAuc, singleLabelReport } from '../evaluation';
import { digitPng, FIXTURES, IDX_FIXTURES, makeMnistIdx, makeMultilabelCsv } from '../tiny-datasets';
import { imageAugmenter } from './augment-image';
import { loadDataConfig, type AugmentationConfig } from './config';
import { parseCsv } from './csv';
import type { Example, Signature } from './dataset';
import { openDataSource } from './open';
import { splitExamples } from './split';
import { ConfigError } from './yaml-config';

const dir = mkdtempSync(path.join(os.tmpdir(), 'specserve-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function yaml(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** <dir>/<name>/<class>/<files>: copies of test/fixtures/mnist digits. */
function folderOf(name: string, layout: Record<string, string[]>): string {
  const root = path.join(dir, name);
  for (const [cls, files] of Object.entries(layout)) {
    mkdirSync(path.join(root, cls), { recursive: true });
    for (const f of files) copyFileSync(path.join(FIXTURES, 'mnist', `${f.split('-')[0]}.png`), path.join(root, cls, `${f}.png`));
  }
  return root;
}

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes, CRLF, a BOM and skips blank lines', () => {
    expect(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\n\n1,\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 4, fields: ['1', ''] },
    ]);
    expect(parseCsv('a\n"multi\nline"\nz')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 2, fields: ['multi\nline'] },
      { line: 4, fields: ['z'] },
    ]);
  });
  it.each([
    ['a\n"open', 'line 2: a quoted field is not closed'],
    ['a\nb"c"', 'line 2: a quote inside an unquoted field'],
    ['a\n"b"c', 'line 2: characters after a closing quote'],
  ])('%j: %s', (text, message) => expect(() => parseCsv(text)).toThrow(message));
});

describe('folder source', () => {
  const root = folderOf('digits', { '0': ['0-a', '0-b', '0-c'], '1': ['1-a', '1-b'], two: ['2-a', '2-b', '2-c'] });

  it('one class per sub-folder, sorted (as Keras); targets reorders; images are listed, not decoded', () => {
    const source = openDataSource(loadDataConfig(yaml('f.yaml', `source: folder\nimages_base_path: ${root}\n`)));
    expect(source).toMatchObject({ kind: 'folder', task: 'single', labels: ['0', '1', 'two'] });
    expect(source.examples.map((e) => `${e.id}:${e.label}`)).toEqual(['0/0-a.png:0', '0/0-b.png:0', '0/0-c.png:0', '1/1-a.png:1', '1/1-b.png:1', 'two/2-a.png:2', 'two/2-b.png:2', 'two/2-c.png:2']);
    const reordered = openDataSource(loadDataConfig(yaml('f2.yaml', `source: folder\nimages_base_path: ${root}\ntargets: [two, '0', '1']\n`)));
    expect(reordered.labels).toEqual(['two', '0', '1']);
    expect(reordered.examples[0]).toEqual({ id: 'two/2-a.png', label: 0 });
  });

  it('targets must name exactly the sub-folders; an empty class folder is an error', () => {
    const file = yaml('f3.yaml', `source: folder\nimages_base_path: ${root}\ntargets: ['0', '1', '2']\n`);
    expect(() => openDataSource(loadDataConfig(file))).toThrow(`${file}: targets: must name exactly the class sub-folders of ${root}; no folder for "2"; not listed: "two"`);
    mkdirSync(path.join(dir, 'with-empty', 'a'), { recursive: true });
    folderOf('with-empty', { b: ['1-x'] });
    const empty = yaml('f4.yaml', `source: folder\nimages_base_path: with-empty\n`);
    expect(() => openDataSource(loadDataConfig(empty))).toThrow(`${empty}: images_base_path: ${path.join(dir, 'with-empty', 'a')} holds no images`);
  });

  it('prepares each image with the server preprocessing; the fingerprint is a sorted listing that changes with any file', async () => {
    const source = openDataSource(loadDataConfig(yaml('f5.yaml', `source: folder\nimages_base_path: ${root}\npreprocessing: {recipe: mnist-digit}\n`)));
    const signature: Signature = { input: { name: 'image', shape: [28, 28, 1], dtype: 'float32' }, preprocessing: { recipe: 'mnist-digit' } };
    const input = await source.loader(signature)(source.examples[3]!);
    const { readFileSync } = await import('node:fs');
    expect(input).toEqual(await prepareInput(readFileSync(path.join(root, '1', '1-a.png')), signature, DEFAULT_IMAGE_LIMITS));
    const before = await source.fingerprint();
    expect(before).toMatchObject({ files: 8, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await source.fingerprint()).sha256).toBe(before.sha256);
    copyFileSync(path.join(FIXTURES, 'mnist', '7.png'), path.join(root, 'two', '2-c.png'));
    expect((await openDataSource(loadDataConfig(yaml('f6.yaml', `source: folder\nimages_base_path: ${root}\n`))).fingerprint()).sha256).not.toBe(before.sha256);
  });
});

describe('CSV source', () => {
  const { csv, images } = makeMultilabelCsv(path.join(dir, 'csv'));
  const config = (extra = '') =>
    yaml('c.yaml', `source: csv\ncsv_path: ${csv}\nimages_base_path: ${images}\nimage_name_col: image\nimage_extension: .png\ntargets: [d0, d1, d2, d3, d4, d5, d6, d7, d8, d9]\n${extra}`);

  it('one row per image: the name column (extension added) and one 0/1 target per column', async () => {
    const source = openDataSource(loadDataConfig(config()));
    expect(source).toMatchObject({ kind: 'csv', task: 'multi', labels: ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9'] });
    expect(source.examples).toHaveLength(24);
    const e = source.examples.find((x) => x.id === '2-4-7.png')!;
    expect(Array.from(e.targets!)).toEqual([0, 0, 1, 0, 1, 0, 0, 1, 0, 0]);
    const print = await source.fingerprint();
    expect(print.parts).toMatchObject({ 'labels.csv': expect.any(String), images: expect.any(String) });
    expect(print.files).toBe(25);
  });

  it('errors name the data config, the key, the CSV line and column', () => {
    const bad = path.join(dir, 'csv', 'bad.csv');
    writeFileSync(bad, 'image,d0\n1,1\n2,yes\n');
    const file = yaml('c2.yaml', `source: csv\ncsv_path: ${bad}\nimages_base_path: ${images}\nimage_name_col: image\nimage_extension: .png\ntargets: [d0]\n`);
    expect(() => openDataSource(loadDataConfig(file))).toThrow(`${file}: csv_path: ${bad}: line 3, column d0: "yes" is not 0 or 1`);
    const wrongCol = yaml('c3.yaml', `source: csv\ncsv_path: ${csv}\nimages_base_path: ${images}\nimage_name_col: file\ntargets: [d0]\n`);
    expect(() => openDataSource(loadDataConfig(wrongCol))).toThrow(`${wrongCol}: image_name_col: "file" is not a column of ${csv} (columns: image, digits, d0,`);
    const noExt = yaml('c4.yaml', `source: csv\ncsv_path: ${csv}\nimages_base_path: ${images}\nimage_name_col: image\ntargets: [d0]\n`);
    expect(() => openDataSource(loadDataConfig(noExt))).toThrow(/images_base_path: 24 image\(s\) named in .* do not exist: line 2: .*\/9; .* \(set image_extension if the names have none\)/);
  });
});

describe('IDX source', () => {
  const idxYaml = (labels: string, extra = '') => yaml('i.yaml', `source: idx\nidx:\n  train_images: ${IDX_FIXTURES.images}\n  train_labels: ${labels}\n${extra}`);

  it('reads images and labels (gzipped or not) whole; labels 0..K-1 are named by targets', () => {
    const gz = openDataSource(loadDataConfig(idxYaml(IDX_FIXTURES.labels)));
    const plain = openDataSource(loadDataConfig(idxYaml(IDX_FIXTURES.labelsPlain)));
    expect(gz).toMatchObject({ kind: 'idx', task: 'single', labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], inputShapeHint: [28, 28, 1] });
    expect(gz.examples).toHaveLength(200);
    expect(plain.examples).toEqual(gz.examples);
    const names = "targets: [T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, 'Ankle boot']\n";
    expect(openDataSource(loadDataConfig(idxYaml(IDX_FIXTURES.labels, names))).labels[9]).toBe('Ankle boot');
    const few = idxYaml(IDX_FIXTURES.labels, 'targets: [a, b]\n');
    expect(() => openDataSource(loadDataConfig(few))).toThrow(`${few}: targets: names 2 labels but the label files use 0..9`);
  });

  it('an IDX image gives the model the same input as a PNG of its pixels through prepareInput', async () => {
    const mnist = makeMnistIdx(path.join(dir, 'mnist-idx'), 10);
    const cases: [string, string, Signature][] = [
      [IDX_FIXTURES.images, IDX_FIXTURES.labels, { input: { name: 'image', shape: [28, 28, 1], dtype: 'float32' }, preprocessing: { recipe: 'resize', resize: 'letterbox', scale: 'unit', invert: 'auto' } }],
      [IDX_FIXTURES.images, IDX_FIXTURES.labels, { input: { name: 'image', shape: [32, 32, 3], dtype: 'float32' }, preprocessing: { recipe: 'resize', resize: 'stretch', scale: 'symmetric', invert: 'never' } }],
      [mnist.images, mnist.labels, { input: { name: 'image', shape: [28, 28, 1], dtype: 'float32' }, preprocessing: { recipe: 'mnist-digit' } }],
    ];
    for (const [images, labels, signature] of cases) {
      const source = openDataSource(loadDataConfig(yaml('i2.yaml', `source: idx\nidx: {train_images: ${images}, train_labels: ${labels}}\n`)));
      const raw = readIdxFile(images);
      for (const i of [0, 7]) {
        const pixels = Float32Array.from(raw.data.subarray(i * 784, (i + 1) * 784) as Uint8Array, (v) => v / 255);
        const viaPng = await prepareInput(await digitPng(pixels), signature, DEFAULT_IMAGE_LIMITS);
        expect(await source.loader(signature)(source.examples[i]!)).toEqual(viaPng);
      }
    }
  });
});

describe('splitExamples', () => {
  const examples: Example[] = Array.from({ length: 100 }, (_, i) => ({ id: `e${i}`, label: i < 70 ? 0 : 1 }));
  const source = { examples, task: 'single' as const, labels: ['a', 'b'] };

  it('is determined by the seed, disjoint, complete and stratified per class', () => {
    const a = splitExamples(source, { validation_split: 0.2, test_split: 0.1, seed: 1 });
    const b = splitExamples(source, { validation_split: 0.2, test_split: 0.1, seed: 1 });
    expect(a).toEqual(b);
    expect(splitExamples(source, { validation_split: 0.2, test_split: 0.1, seed: 2 }).test).not.toEqual(a.test);
    const ids = [...a.train, ...a.validation, ...a.test].map((e) => e.id);
    expect(new Set(ids).size).toBe(100);
    expect([a.train.length, a.validation.length, a.test.length]).toEqual([70, 20, 10]);
    expect(a.validation.filter((e) => e.label === 1)).toHaveLength(6);
    expect(a.test.filter((e) => e.label === 1)).toHaveLength(3);
    expect(a.testFrom).toBe('split');
  });

  it('max_examples takes a seeded subset first; a separate test set replaces the test split', () => {
    const s = splitExamples(source, { validation_split: 0.2, test_split: 0, seed: 1, max_examples: 10 });
    expect(s.train.length + s.validation.length).toBe(10);
    expect(s.testFrom).toBe('none');
    const t = splitExamples({ ...source, testExamples: [{ id: 't', label: 0 }] }, { validation_split: 0.2, test_split: 0, seed: 1 });
    expect(t).toMatchObject({ testFrom: 'separate', test: [{ id: 't' }] });
  });
});

describe('imageAugmenter', () => {
  const none: AugmentationConfig = { horizontal_flip: false, vertical_flip: false, rotation: 0, shift: 0, zoom: 0, brightness: 0, contrast: 0, noise: 0 };
  const image = Float32Array.from({ length: 4 * 4 }, (_, i) => (i % 4) / 3); // columns 0, 1/3, 2/3, 1

  it('is the identity with nothing on, mirrors with a flip, and is reproducible for a seed', () => {
    expect(imageAugmenter([4, 4, 1], 'unit', none)(image, mulberry32(1))).toEqual(image);
    const flip = imageAugmenter([4, 4, 1], 'unit', { ...none, horizontal_flip: true });
    const outs = [1, 2, 3, 4, 5, 6].map((s) => Array.from(flip(image, mulberry32(s))));
    expect(outs).toContainEqual(Array.from(image));
    expect(outs).toContainEqual(Array.from(image).map((_, i) => image[(i - (i % 4)) + 3 - (i % 4)]!));
    const all = imageAugmenter([4, 4, 1], 'unit', { ...none, rotation: 20, shift: 0.2, zoom: 0.2, brightness: 0.2, contrast: 0.2, noise: 0.05 });
    expect(all(image, mulberry32(9))).toEqual(all(image, mulberry32(9)));
  });

  it('works in 0..1 space whatever the model scale: brightness moves symmetric inputs by twice as much', () => {
    const up = { ...none, brightness: 0.1 };
    const unit = imageAugmenter([4, 4, 1], 'unit', up)(Float32Array.from(image, () => 0.5), mulberry32(3));
    const sym = imageAugmenter([4, 4, 1], 'symmetric', up)(Float32Array.from(image, () => 0), mulberry32(3));
    expect(sym[0]!).toBeCloseTo((unit[0]! - 0.5) * 2, 5);
  });
});

describe('evaluation', () => {
  it('ROC AUC by ranks, ties counting half; null without both classes', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(rocAuc([0.5, 0.5], [true, false])).toBe(0.5);
    expect(rocAuc([0.5, 0.7], [true, true])).toBeNull();
  });

  it('per label, the best-F1 threshold lies between the scores it separates', () => {
    const examples: Example[] = [0, 1, 1, 0].map((t, i) => ({ id: String(i), label: -1, targets: Float32Array.of(t, 0) }));
    const rows = [Float32Array.of(0.1, 0.2), Float32Array.of(0.3, 0.2), Float32Array.of(0.6, 0.1), Float32Array.of(0.2, 0.3)];
    const t = bestThresholds(rows, examples, 2);
    expect(t).toEqual([0.25, 0.5]); // label 0: 0.3 / 0.2; label 1 has no positives: 0.5
    const r = multiLabelReport(rows, examples, ['x', 'y'], t);
    expect(r.perLabel.x).toEqual({ threshold: 0.25, precision: 1, recall: 1, f1: 1, auc: 1, support: 2, counts: { tp: 2, fn: 0, fp: 0, tn: 2 } });
    expect(r).toMatchObject({ exactMatch: 1, hammingAccuracy: 1 });
  });

  it('single-label: confusion matrix rows are true classes; precision and recall per class', () => {
    const examples: Example[] = [0, 0, 1, 1].map((label, i) => ({ id: String(i), label }));
    const rows = [Float32Array.of(0.9, 0.1), Float32Array.of(0.2, 0.8), Float32Array.of(0.3, 0.7), Float32Array.of(0.4, 0.6)];
    const r = singleLabelReport(rows, examples, ['a', 'b']);
    expect(r.confusion).toEqual([
      [1, 1],
      [0, 2],
    ]);
    expect(r.perClass).toEqual({ a: { precision: 1, recall: 0.5, f1: 0.6667, support: 2 }, b: { precision: 0.6667, recall: 1, f1: 0.8, support: 2 } });
    expect(r.accuracy).toBe(0.75);
  });
});

it('ConfigError carries the file and the key', () => {
  const e = new ConfigError('/x/data.yaml', 'seed', 'must be >= 0');
  expect([e.file, e.key, e.message]).toEqual(['/x/data.yaml', 'seed', '/x/data.yaml: seed: must be >= 0']);
});
