import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_IMAGE_LIMITS } from '../images';
import { loadLocalServable } from '../inference/local-servable';
import { parseMetadata } from '../model-store/metadata';
import { selectTrainingBackend } from './backend';
import { loadDataConfig, loadTrainConfig } from './data/config';
import { ConfigError } from './data/yaml-config';
import type { EpochRecord } from './fit';
import { Progress } from './progress';
import { runTraining, shownPath, type TrainRunOptions } from './run-training';
import { FIXTURES, IDX_FIXTURES, makeDigitFolder, makeMultilabelCsv, saveTinyBase } from './tiny-datasets';

/**
 * End-to-end runs of `specserve train`'s pipeline on tiny data (a few dozen images, a few
 * epochs, small networks): each takes a second or two on the wasm backend.
 */

const tmp = mkdtempSync(path.join(os.tmpdir(), 'specserve-train-'));
const store = path.join(tmp, 'store');
let digits: string;

beforeAll(async () => {
  expect(await selectTrainingBackend('wasm')).toBe('wasm');
  digits = await makeDigitFolder(path.join(tmp, 'digits'), [0, 1, 2], 16);
  await saveTinyBase(store, 'tinybase');
  await saveTinyBase(store, 'dwbase', { depthwise: true });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function yaml(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

const DIGITS_DATA = () => `source: folder\nimages_base_path: ${digits}\npreprocessing: {recipe: mnist-digit}\nvalidation_split: 0.2\ntest_split: 0.2\nseed: 7\n`;
const SMALL_CNN = 'batch_size: 16\ninitial_learning_rate: 0.003\nmodel: {conv_filters: [8, 16], dense_units: 32, dropout: 0.1}\n';

async function train(name: string, dataYaml: string, trainYaml: string, extra: Partial<TrainRunOptions> = {}) {
  const lines: string[] = [];
  const result = await runTraining({
    data: loadDataConfig(yaml(`${name}-data.yaml`, dataYaml)),
    train: loadTrainConfig(yaml(`${name}-train.yaml`, trainYaml)),
    modelDir: path.join(store, name),
    name,
    store,
    backend: 'wasm',
    progress: new Progress((t) => lines.push(t), false),
    ...extra,
  });
  return { result, log: lines.join('') };
}

const servableOf = (name: string, version: number) => loadLocalServable({ name, version, dir: path.join(store, name, String(version)) }, DEFAULT_IMAGE_LIMITS);

describe('shownPath', () => {
  it('shows a config inside the working directory relative to it, one outside as given', () => {
    expect(shownPath(path.join(process.cwd(), 'training', 'mnist.yaml'))).toBe(path.join('training', 'mnist.yaml'));
    expect(shownPath(path.join(os.tmpdir(), 'x.yaml'))).toBe(path.join(os.tmpdir(), 'x.yaml'));
  });
});

describe('image folder -> a served version', () => {
  it('trains (loss goes down), writes the version atomically with metadata.json + MODEL_CARD.md, and the server loads it', async () => {
    const dir = path.join(store, 'digits', '1');
    // Watch the model folder on every event-loop turn while training runs: the version folder
    // must never be visible incomplete, and the partial folder is where the files are written.
    const seen = { partial: false, incomplete: [] as string[] };
    let watching = true;
    const watch = () => {
      const modelDir = path.join(store, 'digits');
      if (existsSync(modelDir)) {
        const entries = readdirSync(modelDir);
        if (entries.some((e) => e.startsWith('.1.partial-'))) seen.partial = true;
        if (existsSync(dir)) {
          const files = readdirSync(dir);
          for (const f of ['model.json', 'metadata.json', 'MODEL_CARD.md', 'group1-shard1of1.bin']) if (!files.includes(f)) seen.incomplete.push(f);
        }
      }
      if (watching) setImmediate(watch);
    };
    watch();
    const { result, log } = await train('digits', DIGITS_DATA(), `epochs: 5\n${SMALL_CNN}`);
    watching = false;

    expect(seen).toEqual({ partial: true, incomplete: [] });
    expect(result).toMatchObject({ saved: true, interrupted: false, version: 1, dir });
    const losses = result.history.map((h) => h.loss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.8);
    expect(log).toMatch(/train epoch 1\/5 {2}lr 3\.00e-3 {2}loss \d\.\d{4} {2}acc \d\.\d{4} {2}val_loss \d\.\d{4} {2}val_acc \d\.\d{4} {2}\d+\.\d s/);
    expect(readdirSync(dir).sort()).toEqual(['MODEL_CARD.md', 'confusion-matrix.png', 'group1-shard1of1.bin', 'metadata.json', 'model.json']);
    expect(readdirSync(path.join(store, 'digits'))).toEqual(['1']); // no leftovers

    const metadata = parseMetadata(JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')), 'metadata.json');
    expect(metadata).toMatchObject({ input: { name: 'image', shape: [28, 28, 1] }, output: { name: 'probs', kind: 'softmax' }, labels: ['0', '1', '2'], preprocessing: { recipe: 'mnist-digit' } });
    const t = metadata.training as Record<string, any>;
    expect(t.data).toMatchObject({ source: 'folder', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), fingerprint: { files: 51 } });
    expect(t.configs.data.values).toMatchObject({ source: 'folder', seed: 7 });
    expect(t.configs.train.values).toMatchObject({ epochs: 5 });
    expect(t.split).toEqual({ seed: 7, train: 33, validation: 9, test: 9, testFrom: 'split' });
    expect(t.epochs).toBe(5);
    expect(t.validation.perClass['1']).toEqual({ precision: expect.any(Number), recall: expect.any(Number), f1: expect.any(Number), support: expect.any(Number) });
    expect(t.test.confusion).toHaveLength(3);
    expect(t.test.accuracy).toBeGreaterThanOrEqual(0.6);
    const card = readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain('# Model card: digits, version 1');
    expect(card).toContain(`sha256 \`${t.data.sha256}\``);
    expect(card).toContain('Confusion matrix (rows: true class, columns: predicted)');

    // The server's loader takes it and classifies an upload.
    const servable = await servableOf('digits', 1);
    const [probs] = await servable.predict([{ image: readFileSync(path.join(FIXTURES, 'mnist', '1.png')) }]);
    servable.dispose();
    expect(probs).toHaveLength(3);
    expect(probs!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(probs!.indexOf(Math.max(...probs!))).toBe(1);
  });

  it('the next run is the next version; an existing --version is refused before training', async () => {
    const { result } = await train('digits', DIGITS_DATA(), `epochs: 1\n${SMALL_CNN}`);
    expect(result.version).toBe(2);
    await expect(train('digits', DIGITS_DATA(), `epochs: 1\n${SMALL_CNN}`, { version: 1 })).rejects.toThrow(/digits\/1 exists; choose another --version.*\(3\), or add --overwrite/);
  });
});

describe('CSV multi-label', () => {
  it('sigmoid model with per-label thresholds chosen on validation, per-label F1 and AUC', async () => {
    const { csv, images } = makeMultilabelCsv(path.join(tmp, 'ml'));
    const data =
      `source: csv\ncsv_path: ${csv}\nimages_base_path: ${images}\nimage_name_col: image\nimage_extension: .png\n` +
      'targets: [d0, d1, d2, d3, d4, d5, d6, d7, d8, d9]\ninput_shape: [56, 56, 1]\nresize_shape: [56, 56]\n' +
      'preprocessing: {recipe: resize, resize: stretch, scale: unit, invert: auto}\nvalidation_split: 0.25\ntest_split: 0\nseed: 3\n';
    const { result } = await train('multi', data, 'epochs: 6\nbatch_size: 6\ninitial_learning_rate: 0.01\nearly_stopping_patience: 0\nmodel: {conv_filters: [8, 16], dense_units: 0, dropout: 0, global_pool: max}\n');
    const losses = result.history.map((h) => h.loss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    const m = result.metadata!;
    expect(m.output).toMatchObject({ name: 'scores', kind: 'sigmoid', threshold: expect.any(Array) });
    expect(m.output.threshold).toHaveLength(10);
    const t = m.training as Record<string, any>;
    expect(t.validation.perLabel.d2).toEqual({ threshold: expect.any(Number), precision: expect.any(Number), recall: expect.any(Number), f1: expect.any(Number), auc: expect.anything(), support: expect.any(Number), counts: { tp: expect.any(Number), fn: expect.any(Number), fp: expect.any(Number), tn: expect.any(Number) } });
    expect(t.thresholds).toMatchObject({ d0: expect.any(Number) });
    expect(t.test).toBeNull();
    expect(result.history[0]!.validationExactMatch).toEqual(expect.any(Number));
    const servable = await servableOf('multi', 1);
    const [scores] = await servable.predict([{ image: readFileSync(path.join(images, '2-4-7.png')) }]);
    servable.dispose();
    expect(scores).toHaveLength(10);
  });
});

describe('IDX', () => {
  it('Fashion-MNIST IDX fixtures: loss goes down; the data sha256 is per file', async () => {
    const data = `source: idx\nidx:\n  train_images: ${IDX_FIXTURES.images}\n  train_labels: ${IDX_FIXTURES.labels}\ninput_shape: [28, 28, 1]\npreprocessing: {recipe: resize, resize: letterbox, invert: auto}\nvalidation_split: 0.2\ntest_split: 0.2\n`;
    const { result } = await train('fashion', data, 'epochs: 3\nbatch_size: 16\ninitial_learning_rate: 0.003\nmodel: {conv_filters: [8], dense_units: 32, dropout: 0}\n');
    const losses = result.history.map((h) => h.loss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    const t = result.metadata!.training as Record<string, any>;
    expect(Object.keys(t.data.fingerprint.parts)).toEqual(['fashion-t10k-images-first200-idx3-ubyte.gz', 'fashion-t10k-labels-first200-idx1-ubyte.gz']);
    expect(t.split).toMatchObject({ train: 122, validation: 39, test: 39 });
  });
});

describe('Ctrl-C', () => {
  it('stops after the current batch and saves the best weights so far', async () => {
    const controller = new AbortController();
    const onEpoch = (r: EpochRecord) => {
      if (r.epoch === 2) controller.abort();
    };
    const { result, log } = await train('stopped', DIGITS_DATA(), `epochs: 20\nearly_stopping_patience: 0\n${SMALL_CNN}`, { signal: controller.signal, onEpoch });
    expect(result).toMatchObject({ saved: true, interrupted: true, version: 1 });
    expect(result.history).toHaveLength(2);
    const t = result.metadata!.training as Record<string, any>;
    expect(t).toMatchObject({ interrupted: true, epochs: 2, phases: [{ name: 'train', epochs: 20, epochsRun: 2, interrupted: true }] });
    // The saved weights are those of the epoch with the lowest validation loss.
    const best = Math.min(...result.history.map((h) => h.validationLoss));
    expect(t.validation.loss).toBeCloseTo(best, 3);
    expect(readFileSync(path.join(result.dir!, 'MODEL_CARD.md'), 'utf8')).toContain('**interrupted** (Ctrl-C)');
    expect(log).not.toContain('epoch 3/20');
  });

  it('before the first epoch ends: nothing is saved', async () => {
    const controller = new AbortController();
    controller.abort();
    const { result, log } = await train('stopped-early', DIGITS_DATA(), `epochs: 5\n${SMALL_CNN}`, { signal: controller.signal });
    expect(result).toMatchObject({ saved: false, interrupted: true });
    expect(log).toContain('nothing saved');
    expect(existsSync(path.join(store, 'stopped-early'))).toBe(false);
  });
});

describe('transfer learning from a store model', () => {
  const data = () => `source: folder\nimages_base_path: ${digits}\nvalidation_split: 0.2\ntest_split: 0.2\nseed: 7\n`;

  it('cuts below the classifier, trains the head on features computed once, then fine-tunes the top layer', async () => {
    const { result, log } = await train(
      'transfer',
      data(),
      'epochs: 8\nbatch_size: 16\ninitial_learning_rate: 0.01\nearly_stopping_patience: 0\nbase_model: tinybase\nhead: {hidden_units: 0, dropout: 0}\nfine_tune_layers: 1\nfine_tune_epochs: 1\n',
    );
    expect(log).toContain('base: tinybase:1');
    expect(log).toContain('cut at global_average_pooling2d_1 [32], classifier conv_preds removed');
    expect(log).toContain('computing base features once per image (42 images)');
    const heads = result.history.filter((h) => h.phase === 'head').map((h) => h.loss);
    expect(heads.at(-1)!).toBeLessThan(heads[0]!);
    const m = result.metadata!;
    // The base's signature: its input and its preprocessing (symmetric), not the data config's defaults.
    expect(m).toMatchObject({ input: { name: 'input_1', shape: [28, 28, 3] }, preprocessing: { scale: 'symmetric' }, labels: ['0', '1', '2'] });
    const t = m.training as Record<string, any>;
    expect(t.base).toMatchObject({ model: 'tinybase:1', cutLayer: 'global_average_pooling2d_1', removed: 'conv_preds', frozen: true, fineTuneLayers: 1 });
    expect(t.precomputedFeatures).toBe(true);
    expect(t.phases.map((p: { name: string }) => p.name)).toEqual(['head', 'fine-tune']);
    expect(t.phases[1].trainableLayers).toEqual(['conv_pw_1']);
    const modelJson = readFileSync(path.join(result.dir!, 'model.json'), 'utf8');
    expect(modelJson).not.toContain('conv_preds');
    const servable = await servableOf('transfer', 1);
    const [probs] = await servable.predict([{ image: readFileSync(path.join(FIXTURES, 'mnist', '2.png')) }]);
    servable.dispose();
    expect(probs).toHaveLength(3);
  });

  it('with augmentation the frozen base runs on each augmented batch instead', async () => {
    const { result, log } = await train('transfer-aug', data(), 'epochs: 1\nbatch_size: 16\nbase_model: tinybase:1\nuse_augmentation: true\naugmentation: {rotation: 10, shift: 0.1}\n');
    expect(log).toContain('frozen base with augmentation');
    expect((result.metadata!.training as Record<string, unknown>).precomputedFeatures).toBe(false);
  });

  it('refuses, before training, to fine-tune a layer whose gradient the backend lacks; the data config may not contradict the base', async () => {
    const run = train('dw', data(), 'epochs: 1\nbase_model: dwbase\nfine_tune_layers: 2\n');
    await expect(run).rejects.toThrow(ConfigError);
    await expect(run).rejects.toThrow(/dw-train\.yaml: fine_tune_layers: would train conv_dw_1 \(DepthwiseConv2D\), but the wasm backend has no DepthwiseConv2dNativeBackpropFilter.*at most 1 top layer/);
    const mismatch = train('dw', `${data()}input_shape: [64, 64, 3]\n`, 'epochs: 1\nbase_model: tinybase\n');
    await expect(mismatch).rejects.toThrow(/dw-data\.yaml: input_shape: is \[64, 64, 3\] but base_model tinybase:1 takes \[28, 28, 3\]/);
    await expect(train('dw', data(), 'epochs: 1\nbase_model: nosuch\n')).rejects.toThrow(/dw-train\.yaml: base_model: no model "nosuch" in the store/);
  });
});

describe('binary-sigmoid (two labels, one sigmoid unit)', () => {
  it('trains one unit P(second label), records kind binary-sigmoid, and the server ranks both labels from it', async () => {
    const twoDigits = await makeDigitFolder(path.join(tmp, 'two-digits'), [0, 1], 40);
    const data = `source: folder\nimages_base_path: ${twoDigits}\npreprocessing: {recipe: mnist-digit}\nvalidation_split: 0.2\ntest_split: 0.2\nseed: 7\n`;
    const { result, log } = await train('zero-or-one', data, `epochs: 8\noutput: binary-sigmoid\n${SMALL_CNN}`);
    expect(log).toContain('two labels, one sigmoid unit P(1) (binary cross-entropy)');
    expect(result.saved).toBe(true);
    expect(result.metadata!.output).toEqual({ name: 'score', kind: 'binary-sigmoid' });
    expect(result.metadata!.training!.loss).toBe('binaryCrossentropy');
    // Reports are two-label reports (accuracy, confusion) made from [1 - p, p].
    expect(result.test!.task).toBe('single');
    expect(result.test!.task === 'single' && result.test!.accuracy).toBeGreaterThanOrEqual(0.75);
    const servable = await servableOf('zero-or-one', 1);
    try {
      const bytes = readFileSync(path.join(FIXTURES, 'mnist', '1.png'));
      const [row] = await servable.predict([{ image: bytes }]);
      expect(row).toHaveLength(1);
      expect(row![0]).toBeGreaterThan(0.5); // a 1 scores as the second label
    } finally {
      servable.dispose();
    }
  });

  it('is refused for data that is not two single labels', async () => {
    await expect(train('three', DIGITS_DATA(), `epochs: 1\noutput: binary-sigmoid\n${SMALL_CNN}`)).rejects.toThrow(
      'output: binary-sigmoid needs single-label data with exactly two labels; the data has 3 (single-label)',
    );
  });
});
