import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig, parseBackendName } from '../config';
import { initBackend } from '../inference/backend';
import { configureLogging } from '../log';
import { kerasMetadata, kerasModelArtifacts, readKerasFile } from '../model-store/keras';
import { kerasMaxWeightsBytes } from '../model-store/keras/limits';
import { importModelCard } from '../model-store/keras/model-card';
import type { Preprocessing } from '../model-store/metadata';
import { MODEL_NAME } from '../model-store/repository';
import { artifactsToFiles, writeModelDir } from '../training/save-model';
import { versionsIn } from '../training/transfer';
import { type CliIo, type Command, parseCommandArgs, UsageError } from './command';

/**
 * `specserve import model.h5 --name N`: a Keras file (Keras 2 HDF5, Keras 3 .keras or legacy .h5)
 * -> a new version <store>/<N>/<V>/ with model.json + shards (a TF.js layers model, which
 * training can fine-tune), metadata.json and MODEL_CARD.md, written atomically (a hidden folder
 * beside it, then one rename), so a running server's hot reload never sees half of it.
 */
export const IMPORT_USAGE = `usage: specserve import <file.h5|file.keras> --name MODEL [--version N] [--labels FILE] [--preprocess PRESET] [--store DIR] [--overwrite]

  Converts a Keras model (Keras 2 .h5, Keras 3 .keras or legacy .h5; Sequential or
  Functional) into a new version <store>/<MODEL>/<N>/ (model.json, weight shards,
  metadata.json, MODEL_CARD.md), atomically: a running server picks it up complete.
  --name        model folder name (letters, digits, _ . -)
  --version     version folder to write (default: the next free one); an existing one is
                refused unless --overwrite
  --labels      text file, one label per line in output order (or a JSON list); default:
                the class indices 0..n-1
  --preprocess  how uploads become the input: mnist-digit (MNIST-style digit: crop to the ink,
                centre in 28x28), unit (x/255, the default), symmetric (x/127.5 - 1: MobileNet,
                Inception), caffe (BGR minus ImageNet means: ResNet50, VGG16), raw (0..255:
                models with a Rescaling layer)
  --store       model store (default: MODEL_STORE, else ./model-store)

  KERAS_MAX_WEIGHTS_BYTES (default 1 GiB) refuses larger files before reading their weights.
`;

export const PRESETS = ['mnist-digit', 'unit', 'symmetric', 'caffe', 'raw'] as const;
type Preset = (typeof PRESETS)[number];

export interface ImportArgs {
  file: string;
  name: string;
  store: string;
  version?: number;
  labels?: string[];
  preprocess?: Preset;
  overwrite: boolean;
}

/** A labels file: a JSON list of strings, or one label per line (blank lines skipped). */
export async function readLabels(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--labels ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (text.trimStart().startsWith('[')) {
    const list = JSON.parse(text) as unknown;
    if (!Array.isArray(list) || !list.every((l) => typeof l === 'string')) throw new UsageError(`--labels ${file}: a JSON file must be a list of strings`);
    return list;
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export async function parseImportArgs(args: string[], env: CliIo['env']): Promise<ImportArgs> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      version: { type: 'string' },
      labels: { type: 'string' },
      preprocess: { type: 'string' },
      store: { type: 'string' },
      overwrite: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'the Keras file to import is required' : `one file at a time (got ${positionals.join(' ')})`);
  const file = path.resolve(positionals[0] as string);
  if (values.name === undefined) throw new UsageError('--name is required (the model folder name)');
  if (!MODEL_NAME.test(values.name)) throw new UsageError(`--name ${JSON.stringify(values.name)}: expected letters, digits, _ . - (not starting with . _ -)`);
  if (values.version !== undefined && !/^[1-9][0-9]{0,8}$/.test(values.version)) {
    throw new UsageError(`--version ${JSON.stringify(values.version)}: expected a whole number from 1 to 999999999`);
  }
  if (values.preprocess !== undefined && !(PRESETS as readonly string[]).includes(values.preprocess)) {
    throw new UsageError(`--preprocess ${JSON.stringify(values.preprocess)}: expected one of ${PRESETS.join(', ')}`);
  }
  let store = values.store;
  if (store === undefined) {
    try {
      store = loadConfig(env).modelStore;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return {
    file,
    name: values.name,
    store: path.resolve(store),
    ...(values.version !== undefined ? { version: Number(values.version) } : {}),
    ...(values.labels !== undefined ? { labels: await readLabels(values.labels) } : {}),
    ...(values.preprocess !== undefined ? { preprocess: values.preprocess as Preset } : {}),
    overwrite: values.overwrite ?? false,
  };
}

/** The preprocessing of a preset; `channels` picks invert (auto for one-channel models). */
function presetPreprocessing(preset: Preset, channels: number): Preprocessing {
  if (preset === 'mnist-digit') return { recipe: 'mnist-digit' };
  return { recipe: 'resize', resize: 'stretch', scale: preset, invert: channels === 1 ? 'auto' : 'never' };
}

/** A SavedModel is a folder (or its saved_model.pb): say what to do instead. */
function refuseSavedModel(file: string): void {
  const isDir = existsSync(file) && statSync(file).isDirectory();
  if (path.basename(file) === 'saved_model.pb' || (isDir && existsSync(path.join(file, 'saved_model.pb')))) {
    throw new Error(`${file}: a TensorFlow SavedModel cannot be read without TensorFlow; in Python save the model as .keras (model.save("model.keras")) and import that, or export it to ONNX`);
  }
  if (isDir) throw new Error(`${file}: a folder; give the .h5 or .keras file`);
}

export interface ImportResult {
  dir: string;
  version: number;
  parameters: number;
}

export async function importKeras(a: ImportArgs, env: CliIo['env']): Promise<ImportResult> {
  refuseSavedModel(a.file);
  const modelDir = path.join(a.store, a.name);
  const existing = versionsIn(modelDir);
  const version = a.version ?? (existing.at(-1) ?? 0) + 1;
  const dir = path.join(modelDir, String(version));
  if (existsSync(dir) && !a.overwrite) throw new Error(`${dir} exists; choose another --version or pass --overwrite`);

  const content = await readKerasFile(a.file, true, kerasMaxWeightsBytes(env));
  const metadataFile = path.join(dir, 'metadata.json');
  const defaults = kerasMetadata(content, a.file, undefined, metadataFile);
  const overrides: Record<string, unknown> = {};
  if (a.labels) {
    const units = defaults.output.kind === 'binary-sigmoid' ? 2 : defaults.labels.length;
    if (a.labels.length !== units) throw new Error(`--labels has ${a.labels.length} labels; the model's output has ${units} classes`);
    overrides.labels = a.labels;
  }
  if (a.preprocess) overrides.preprocessing = presetPreprocessing(a.preprocess, defaults.input.shape[2] ?? 1);
  const metadata = kerasMetadata(content, a.file, { ...defaults, ...overrides }, metadataFile);

  const bytes = await readFile(a.file);
  const files = artifactsToFiles(await kerasModelArtifacts(content, a.file));
  files.set(
    'MODEL_CARD.md',
    importModelCard({
      name: a.name,
      version,
      source: { file: path.basename(a.file), bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
      content,
      metadata,
      tfjs: tf.version.tfjs,
      date: new Date().toISOString(),
    }),
  );
  await writeModelDir(dir, files, metadata);
  return { dir, version, parameters: content.parameters };
}

export const importCommand: Command = {
  summary: 'import a Keras .h5 / .keras model as a new version (no Python)',
  usage: IMPORT_USAGE,
  async run(args, io) {
    const a = await parseImportArgs(args, io.env);
    // TF.js builds the model once to name its weights; the backend's info line is not wanted here.
    if (io.env.LOG_LEVEL === undefined) configureLogging({ level: 'warn' });
    await initBackend(parseBackendName(io.env.TFJS_BACKEND));
    const result = await importKeras(a, io.env);
    io.stdout(`imported ${a.file} as ${result.dir} (${result.parameters} parameters)\n`);
    return 0;
  },
};
