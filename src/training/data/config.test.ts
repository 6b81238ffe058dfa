import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_AUGMENTATION, loadDataConfig, loadTrainConfig } from './config';
import { ConfigError } from './yaml-config';

// Made at load time: the it.each tables below name paths inside it.
const dir = mkdtempSync(path.join(os.tmpdir(), 'specserve-config-'));
beforeAll(() => {
  mkdirSync(path.join(dir, 'images', 'cat'), { recursive: true });
  writeFileSync(path.join(dir, 'labels.csv'), 'image,a\nx,1\n');
  writeFileSync(path.join(dir, 'train-images.gz'), '');
  writeFileSync(path.join(dir, 'train-labels.gz'), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The error a config load throws (or fails the test). */
function errorOf(load: () => unknown): ConfigError {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('data config', () => {
  it('resolves paths against the YAML folder and fills in the defaults', () => {
    const c = loadDataConfig(write('d-ok.yaml', 'source: folder\nimages_base_path: images\ninput_shape: [32, 32, 3]\nresize_shape: [32, 32]\n'));
    expect(c).toMatchObject({ source: 'folder', images_base_path: path.join(dir, 'images'), validation_split: 0.1, test_split: 0.1, seed: 42, input_shape: [32, 32, 3] });
    const csv = loadDataConfig(
      write('d-csv.yaml', 'source: csv\ncsv_path: labels.csv\nimages_base_path: images\nimage_name_col: image\ntargets: [a]\nvalidation_split: 0.2\ntest_split: 0\nseed: 3\npreprocessing: {recipe: resize, scale: symmetric}\n'),
    );
    expect(csv).toMatchObject({ csv_path: path.join(dir, 'labels.csv'), test_split: 0, seed: 3, preprocessing: { recipe: 'resize', resize: 'stretch', scale: 'symmetric', invert: 'never' } });
  });

  it.each([
    ['source: xml\n', 'source: must be one of "idx", "folder", "csv", "mnist-package", "mnist-composites"; got "xml"'],
    ['images_base_path: images\n', 'source: is required'],
    ['source: folder\nimages_base_path: images\nvalidaton_split: 0.2\n', 'validaton_split: unknown key (known here: source, images_base_path,'],
    ['source: folder\nimages_base_path: images\nvalidation_split: 1.5\n', 'validation_split: must be <= 0.9; got 1.5'],
    ['source: folder\nimages_base_path: images\nvalidation_split: "a lot"\n', 'validation_split: must be number; got "a lot"'],
    ['source: folder\n', 'images_base_path: is required for source folder'],
    ['source: folder\nimages_base_path: nowhere\n', `images_base_path: ${path.join(dir, 'nowhere')} does not exist`],
    ['source: folder\nimages_base_path: labels.csv\n', 'images_base_path: '],
    ['source: csv\nimages_base_path: images\ncsv_path: labels.csv\ntargets: [a]\n', 'image_name_col: is required for source csv'],
    ['source: idx\nimages_base_path: images\n', 'images_base_path: is not used by source idx (it takes idx)'],
    ['source: idx\nidx: {train_images: train-images.gz}\n', 'idx.train_labels: is required'],
    ['source: idx\nidx: {train_images: train-images.gz, train_labels: train-labels.gz, test_images: train-images.gz}\n', 'idx.test_labels: is required when the other test file is given'],
    ['source: folder\nimages_base_path: images\ninput_shape: [32, 32, 3]\nresize_shape: [64, 64]\n', 'resize_shape: [64, 64] differs from input_shape [32, 32, 3]'],
    ['source: folder\nimages_base_path: images\ninput_shape: [32, 32, 2]\n', 'input_shape: must be [height, width, channels] with 1 or 3 channels'],
    ['source: folder\nimages_base_path: images\ninput_shape: [32, 32]\n', 'input_shape: must NOT have fewer than 3 items'],
    ['source: folder\nimages_base_path: images\nvalidation_split: 0.5\ntest_split: 0.5\n', 'validation_split: validation_split + test_split is 1; at most 0.9'],
    ['source: folder\nimages_base_path: images\npreprocessing: {recipe: mnist-digit, scale: unit}\n', 'preprocessing.scale: applies to recipe resize only'],
    ['source: folder\nimages_base_path: images\npreprocessing: {recipe: resize, scale: zero-one}\n', 'preprocessing.scale: must be one of "unit", "symmetric", "raw", "caffe"; got "zero-one"'],
    ['source: folder\nimages_base_path: images\ntest_path: images\ntest_split: 0.2\n', 'test_split: must be 0 or absent when a separate test set is given'],
    ['source: folder\nimages_base_path: images\ntargets: [a, a]\n', 'targets: must NOT have duplicate items'],
    ['source: [folder\n', 'YAML syntax error at line 2'],
    ['- source: folder\n', 'must be a mapping of keys'],
    ['', 'is empty'],
  ])('%j -> "%s" (naming the file)', (text, message) => {
    const file = write('d.yaml', text);
    const e = errorOf(() => loadDataConfig(file));
    expect(e.message).toContain(`${file}: ${message}`);
  });

  it('reports every schema problem at once, one line each', () => {
    const file = write('d-many.yaml', 'source: folder\nimages_base_path: images\nseed: -1\nvalidation_split: 2\nfoo: 1\n');
    const lines = errorOf(() => loadDataConfig(file)).message.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([`${file}: seed: must be >= 0; got -1`, `${file}: validation_split: must be <= 0.9; got 2`, expect.stringContaining(`${file}: foo: unknown key`)]),
    );
  });

  it('a missing file is named', () => {
    expect(errorOf(() => loadDataConfig(path.join(dir, 'none.yaml'))).message).toBe(`${path.join(dir, 'none.yaml')}: cannot be read (ENOENT)`);
  });
});

describe('training config', () => {
  it('fills in the defaults; a number lr_decay is a per-epoch factor', () => {
    const c = loadTrainConfig(write('t-ok.yaml', 'epochs: 3\nlr_decay: 0.9\nuse_augmentation: true\naugmentation: {rotation: 5}\nmodel_path: ../models/digits\n'));
    expect(c).toMatchObject({
      epochs: 3,
      batch_size: 32,
      initial_learning_rate: 1e-3,
      lr_decay: { schedule: 'exponential', factor: 0.9 },
      early_stopping_patience: 3,
      use_augmentation: true,
      augmentation: { ...DEFAULT_AUGMENTATION, rotation: 5, horizontal_flip: false },
      freeze_base: true,
      fine_tune_layers: 0,
      model_path: path.resolve(dir, '../models/digits'),
    });
    expect(loadTrainConfig(write('t-p.yaml', 'epochs: 3\nlr_decay: {schedule: plateau}\n')).lr_decay).toEqual({ schedule: 'plateau', factor: 0.5, patience: 1, min_learning_rate: 1e-6 });
    expect(loadTrainConfig(write('t-ft.yaml', 'epochs: 6\nbase_model: imagenet\nfine_tune_layers: 2\n'))).toMatchObject({ fine_tune_layers: 2, fine_tune_epochs: 3 });
  });

  it.each([
    ['batch_size: 8\n', 'epochs: is required'],
    ['epochs: 0\n', 'epochs: must be >= 1; got 0'],
    ['epochs: 2\nbatch_size: 1.5\n', 'batch_size: must be integer; got 1.5'],
    ['epochs: 2\ninitial_learning_rate: 0\n', 'initial_learning_rate: must be > 0; got 0'],
    ['epochs: 2\nlr_decay: 1.5\n', 'lr_decay: must be <= 1; got 1.5'],
    ['epochs: 2\nlr_decay: {schedule: cosine}\n', 'lr_decay.schedule: must be one of "none", "exponential", "plateau"; got "cosine"'],
    ['epochs: 2\nlr_decay: {schedule: exponential}\n', 'lr_decay.factor: is required for schedule exponential'],
    ['epochs: 2\nuse_augmentation: yes please\n', 'use_augmentation: must be boolean; got "yes please"'],
    ['epochs: 2\naugmentation: {flip: true}\n', 'augmentation.flip: unknown key (known here: horizontal_flip, vertical_flip, rotation'],
    ['epochs: 2\naugmentation: {rotation: 400}\n', 'augmentation.rotation: must be <= 180; got 400'],
    ['epochs: 2\nfreeze_base: false\n', 'freeze_base: applies only with base_model'],
    ['epochs: 2\nbase_model: imagenet\nfreeze_base: false\nfine_tune_layers: 2\n', 'fine_tune_layers: needs freeze_base: true'],
    ['epochs: 2\nbase_model: imagenet\nfine_tune_epochs: 2\n', 'fine_tune_epochs: needs fine_tune_layers > 0'],
    ['epochs: 2\nbase_model: imagenet\nmodel: {conv_filters: [8]}\n', 'model: describes a network trained from scratch; with base_model use head instead'],
    ['epochs: 2\nmodel: {conv_filters: [0]}\n', 'model.conv_filters[0]: must be >= 1; got 0'],
    ['epochs: 2\nmodel: {conv_filters: [8], blocks: [{filters: [8]}]}\n', 'model.blocks: and model.conv_filters both describe the convolutions; give one'],
    ['epochs: 2\nmodel: {blocks: [{filters: [8], padding: full}]}\n', 'model.blocks[0].padding: must be one of "same", "valid"; got "full"'],
    ['epochs: 2\noutput: relu\n', 'output: must be one of "softmax", "sigmoid", "binary-sigmoid"; got "relu"'],
    ['epochs: 2\naugmentation: {scene: {blur: 2}}\n', 'augmentation.scene.blur: must be <= 1; got 2'],
    ['epochs: 2\nuse_augmentation: true\naugmentation: {rotation: 0, shift: 0, zoom: 0, brightness: 0, contrast: 0}\n', 'augmentation: turns every transformation off'],
  ])('%j -> "%s" (naming the file)', (text, message) => {
    const file = write('t.yaml', text);
    expect(errorOf(() => loadTrainConfig(file)).message).toContain(`${file}: ${message}`);
  });
});

describe('network blocks', () => {
  it('fills in a block\'s defaults; conv_filters is one 3x3 conv + pool per entry', () => {
    const blocks = loadTrainConfig(write('b.yaml', 'epochs: 1\nmodel: {blocks: [{filters: [32, 64], padding: valid, dropout: 0.25}, {filters: [16], kernel: 5, stride: 2, pool: false}]}\n')).model.blocks;
    expect(blocks).toEqual([
      { filters: [32, 64], kernel: 3, stride: 1, padding: 'valid', pool: true, dropout: 0.25 },
      { filters: [16], kernel: 5, stride: 2, padding: 'same', pool: false, dropout: 0 },
    ]);
    expect(loadTrainConfig(write('c.yaml', 'epochs: 1\nmodel: {conv_filters: [8, 16]}\n')).model.blocks).toEqual([
      { filters: [8], kernel: 3, stride: 1, padding: 'same', pool: true, dropout: 0 },
      { filters: [16], kernel: 3, stride: 1, padding: 'same', pool: true, dropout: 0 },
    ]);
  });
});
