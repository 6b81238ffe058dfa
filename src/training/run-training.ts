import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelMetadata, Preprocessing } from '../model-store/metadata';
import { applyHead, buildCnn, cnnArchitecture, headArchitecture, OUTPUT_NAMES, type OutputActivation } from './cnn';
import { imageAugmenter, type Augmenter } from './data/augment-image';
import { featureFeed, imageFeed, precomputedFeed, precomputeFeatures, predictRows, type Feed } from './data/batches';
import type { DataConfig, TrainConfig } from './data/config';
import type { DataSource, Example, Signature, Task } from './data/dataset';
import { sceneAugmenter } from './data/scene-augment';
import { sha256Text } from './data/fingerprint';
import { openDataSource } from './data/open';
import { splitExamples, type Split } from './data/split';
import { ConfigError } from './data/yaml-config';
import { bestThresholds, reportOf, round4, summaryOf, type Report } from './evaluation';
import { fit, type EpochRecord, type FitResult } from './fit';
import { INPUT_NAME } from './model';
import { confusionMatrixPng, confusionTable } from './confusion-plot';
import { CONFUSION_PNG, modelCard, type PhaseRecord } from './model-card';
import { labelScores } from '../protocols/ranking';
import { Progress } from './progress';
import { modelToFiles, writeModelDir } from './save-model';
import { batchNormInInferenceMode, featureExtractor, findCut, layersToUnfreeze, loadBaseModel, unfreeze, versionsIn, type BaseModel, type Cut } from './transfer';

/**
 * One `specserve train` run: data config + training config -> a new version folder
 * `<store>/<name>/<version>/` (model.json, shards, metadata.json, MODEL_CARD.md), written
 * atomically (writeModelDir: a hidden temporary folder renamed into place), so a server watching
 * the store never sees half a model.
 *
 * Networks: a small CNN from scratch (training config `model:`), or a base model of the store
 * cut below its classifier with a new head (`base_model:`). With a frozen base the head is
 * trained on the base's features; without augmentation those are computed once per image and
 * kept (the base then runs once per image instead of once per image per epoch), with
 * augmentation per batch. `fine_tune_layers` then unfreezes the top layers for a second phase.
 */

export interface TrainRunOptions {
  data: DataConfig;
  train: TrainConfig;
  /** The model folder new versions go into: <store>/<name>. */
  modelDir: string;
  name: string;
  /** Where `base_model: <name>[:version]` is looked up. */
  store: string;
  /** Write this version (default: the next free one). */
  version?: number;
  /** Replace an existing --version. */
  overwrite?: boolean;
  backend: string;
  /** Ctrl-C: aborting ends training after the current batch and saves the best weights so far. */
  signal?: AbortSignal;
  /** Where progress and log lines go (stderr in the CLI). */
  progress: Progress;
  /** Tests: called with each finished epoch. */
  onEpoch?: (r: EpochRecord) => void;
}

export interface TrainRunResult {
  /** False when stopped before any epoch ended (nothing worth saving). */
  saved: boolean;
  interrupted: boolean;
  dir?: string;
  version?: number;
  metadata?: ModelMetadata;
  validation?: Report;
  test?: Report;
  history: EpochRecord[];
}

const DEFAULT_PREPROCESSING: Preprocessing = { recipe: 'resize', resize: 'stretch', scale: 'unit', invert: 'never' };

/** The version to write: --version (refused if it exists, unless overwrite) or the next free one. */
export function chooseVersion(modelDir: string, requested: number | undefined, overwrite: boolean): number {
  const versions = versionsIn(modelDir);
  if (requested !== undefined) {
    if (versions.includes(requested) && !overwrite) {
      throw new Error(`${path.join(modelDir, String(requested))} exists; choose another --version, leave it out for the next free one (${(versions.at(-1) ?? 0) + 1}), or add --overwrite`);
    }
    return requested;
  }
  return (versions.at(-1) ?? 0) + 1;
}

interface Resolved {
  signature: Signature;
  activation: OutputActivation;
}

/** The output layer: the training config's `output`, else softmax (single-label) or sigmoid (multi-label). */
function outputOf(train: TrainConfig, source: DataSource): OutputActivation {
  const natural: OutputActivation = source.task === 'multi' ? 'sigmoid' : 'softmax';
  const chosen = train.output ?? natural;
  if (chosen === 'binary-sigmoid' && (source.task !== 'single' || source.labels.length !== 2)) {
    throw new ConfigError(train.file, 'output', `binary-sigmoid needs single-label data with exactly two labels; the data has ${source.labels.length} (${source.task === 'multi' ? 'multi-label' : 'single-label'})`);
  }
  if (chosen !== 'binary-sigmoid' && chosen !== natural) {
    throw new ConfigError(train.file, 'output', `${chosen} does not fit ${source.task === 'multi' ? 'multi-label' : 'single-label'} data (use ${natural}${source.task === 'single' && source.labels.length === 2 ? ' or binary-sigmoid' : ''})`);
  }
  return chosen;
}

/**
 * binary-sigmoid trains one unit on the 0/1 target "is labels[1]" with binary cross-entropy: for
 * the fit loop the examples become one-label multi-label examples. The target is set on the
 * example objects themselves (sources find an example's image by its object, so no copies);
 * single-label reports read only `label`. Evaluation turns the unit p into the rows [1 - p, p] as the server
 * does (labelScores).
 */
function setBinaryTargets(examples: Example[]): void {
  for (const e of examples) e.targets = Float32Array.of(e.label);
}


/** Input shape and preprocessing: the base model's (the data config may only agree), else the data config's. */
function resolveSignature(data: DataConfig, train: TrainConfig, source: DataSource, base: BaseModel | undefined): Resolved {
  const activation = outputOf(train, source);
  let shape: number[];
  let preprocessing: Preprocessing;
  let inputName = INPUT_NAME;
  if (base) {
    shape = base.metadata.input.shape;
    inputName = base.model.inputs[0]!.sourceLayer.name;
    if (data.input_shape && data.input_shape.join(',') !== shape.join(',')) {
      throw new ConfigError(data.file, 'input_shape', `is [${data.input_shape.join(', ')}] but base_model ${base.ref} takes [${shape.join(', ')}] (leave input_shape out to use the base's)`);
    }
    preprocessing = base.metadata.preprocessing;
    if (data.preprocessing) {
      const p = data.preprocessing;
      const bp = base.metadata.preprocessing;
      const scaleOf = (x: Preprocessing) => (x.recipe === 'resize' ? x.scale : 'mnist-digit');
      if (p.recipe !== bp.recipe || scaleOf(p) !== scaleOf(bp)) {
        throw new ConfigError(data.file, 'preprocessing', `${JSON.stringify(p)} does not match base_model ${base.ref}'s ${JSON.stringify(bp)}: the base was trained on that scale`);
      }
      preprocessing = p;
    }
  } else {
    const hint = source.inputShapeHint;
    shape = data.input_shape ?? (data.preprocessing?.recipe === 'mnist-digit' ? [28, 28, 1] : hint ?? []);
    if (shape.length === 0) throw new ConfigError(data.file, 'input_shape', `is required for source ${data.source} without base_model (e.g. [64, 64, 3])`);
    preprocessing = data.preprocessing ?? DEFAULT_PREPROCESSING;
  }
  if (preprocessing.recipe === 'mnist-digit' && train.use_augmentation && (train.augmentation.horizontal_flip || train.augmentation.vertical_flip)) {
    throw new ConfigError(train.file, train.augmentation.horizontal_flip ? 'augmentation.horizontal_flip' : 'augmentation.vertical_flip', 'must be false for digits (preprocessing mnist-digit): a mirrored digit is another digit or none');
  }
  return { signature: { input: { name: inputName, shape, dtype: 'float32' }, preprocessing }, activation };
}

/** Fraction of positives per label among the training examples (multi-label). */
function labelPriors(train: Example[], labels: number): number[] {
  const counts = new Array<number>(labels).fill(0);
  for (const e of train) for (let k = 0; k < labels; k++) counts[k]! += e.targets![k]!;
  return counts.map((c) => c / Math.max(1, train.length));
}

/**
 * A config file as the card and metadata.json show it: relative to the working directory when
 * inside it, so a version trained in a checkout does not carry that machine's absolute paths.
 */
export function shownPath(f: string): string {
  const r = path.relative(process.cwd(), f);
  return r.startsWith('..') || path.isAbsolute(r) ? f : r;
}

/** The command line that trains this version again (paths relative to the working directory). */
function reproduceCommand(data: DataConfig, train: TrainConfig, name: string, version: number): string {
  const configs = data.file === train.file ? shownPath(data.file) : `--data-config ${shownPath(data.file)} --train-config ${shownPath(train.file)}`;
  const named = train.model_path && path.basename(train.model_path) === name ? '' : ` --name ${name}`;
  return `specserve train ${configs}${named} --version ${version} --overwrite`;
}

function phaseRecord(name: string, epochs: number, learningRate: number, r: FitResult, trainableLayers?: string[]): PhaseRecord {
  return {
    name,
    epochs,
    epochsRun: r.history.length,
    bestEpoch: r.bestEpoch,
    monitor: r.monitor,
    stoppedEarly: r.stoppedEarly,
    interrupted: r.interrupted,
    learningRate,
    seconds: Math.round(r.seconds),
    ...(trainableLayers ? { trainableLayers } : {}),
  };
}

const roundRecord = (r: EpochRecord) => ({
  ...r,
  learningRate: Number(r.learningRate.toPrecision(4)),
  loss: round4(r.loss),
  accuracy: round4(r.accuracy),
  validationLoss: round4(r.validationLoss),
  validationAccuracy: round4(r.validationAccuracy),
  ...(r.validationExactMatch !== undefined ? { validationExactMatch: round4(r.validationExactMatch) } : {}),
  seconds: Number(r.seconds.toFixed(1)),
});

/** Frees the weights; base and combined model share layers, whose reference counts tfjs tracks loosely. */
function disposeQuietly(...models: (tf.LayersModel | undefined)[]): void {
  for (const m of models) {
    try {
      m?.dispose();
    } catch {
      // already disposed through the other model
    }
  }
}

export async function runTraining(o: TrainRunOptions): Promise<TrainRunResult> {
  const { data, train, progress } = o;
  const log = (line: string) => progress.line(line);
  const started = Date.now();
  // Refuse an existing --version before spending any time on training.
  chooseVersion(o.modelDir, o.version, o.overwrite ?? false);

  const source = openDataSource(data);
  log(`data: ${source.description}`);
  const base = train.base_model ? await loadBaseModel(train.base_model, o.store, train.file) : undefined;
  const { signature, activation } = resolveSignature(data, train, source, base);
  const shape = signature.input.shape;
  const split: Split = splitExamples(source, data);
  const binary = activation === 'binary-sigmoid';
  const taskWords = binary
    ? `two labels, one sigmoid unit P(${source.labels[1]}) (binary cross-entropy)`
    : source.task === 'multi'
      ? 'multi-label (sigmoid, binary cross-entropy)'
      : 'single-label (softmax, categorical cross-entropy)';
  log(
    `split (seed ${data.seed}): ${split.train.length} train, ${split.validation.length} validation, ${split.test.length} test` +
      `${split.testFrom === 'separate' ? ' (separate test set)' : ''}; ${source.labels.length} labels, ${taskWords}`,
  );
  const labels = source.labels.length;
  // What the fit loop sees: binary-sigmoid trains a one-label multi-label problem.
  if (binary) setBinaryTargets([...split.train, ...split.validation]);
  const fitTask: Task = binary ? 'multi' : source.task;
  const fitLabels = binary ? 1 : labels;
  const priors = fitTask === 'multi' ? labelPriors(split.train, fitLabels) : undefined;
  const load = source.loader(signature);
  const scene = train.use_augmentation && train.augmentation.scene ? sceneAugmenter(train.augmentation.scene) : undefined;
  if (scene && !source.acceptsScene) {
    throw new ConfigError(train.file, 'augmentation.scene', `needs a source of raw pixels (idx, mnist-package); source ${data.source} gives image files`);
  }
  const augment: Augmenter | undefined = train.use_augmentation
    ? imageAugmenter(shape, signature.preprocessing.recipe === 'resize' ? signature.preprocessing.scale : 'unit', train.augmentation)
    : undefined;
  const images = imageFeed(load, shape);
  const trainImages = imageFeed(scene ? source.loader(signature, scene) : load, shape, augment);
  const seed = data.seed;
  const onEpoch = (epochs: number) => (r: EpochRecord) => {
    progress.epoch(r, epochs);
    o.onEpoch?.(r);
  };
  const common = {
    train: split.train,
    validation: split.validation,
    task: fitTask,
    labels: fitLabels,
    batchSize: train.batch_size,
    lrDecay: train.lr_decay,
    patience: train.early_stopping_patience,
    monitor: train.monitor,
    onBatch: (p: Parameters<Progress['batch']>[0]) => progress.batch(p),
    ...(o.signal ? { signal: o.signal } : {}),
  };

  let model: tf.LayersModel;
  let architecture: string;
  let cut: Cut | undefined;
  let precomputed = false;
  const phases: PhaseRecord[] = [];
  const history: EpochRecord[] = [];
  let interrupted = false;
  let anyEpoch = false;

  if (!base) {
    model = buildCnn(shape, labels, activation, train.model, seed, priors);
    architecture = cnnArchitecture(train.model, labels, activation);
    log(`network: ${architecture} (${model.countParams()} weights)`);
    const r = await fit({ ...common, phase: 'train', model, feed: trainImages, validationFeed: images, epochs: train.epochs, learningRate: train.initial_learning_rate, seed: seed + 1, onEpoch: onEpoch(train.epochs) });
    phases.push(phaseRecord('train', train.epochs, train.initial_learning_rate, r));
    history.push(...r.history);
    interrupted = r.interrupted;
    anyEpoch = r.bestEpoch > 0;
  } else {
    cut = findCut(base.model, train.cut_layer, train.file);
    const featureShape = cut.tensor.shape.slice(1) as number[];
    architecture = `${base.ref} up to ${cut.layer} [${featureShape.join(', ')}] - ${headArchitecture(train.head, featureShape, labels, activation)}`;
    log(`base: ${base.ref} (${base.dir}), cut at ${cut.layer} [${featureShape.join(', ')}]${cut.removed ? `, classifier ${cut.removed} removed` : ''}; head: ${headArchitecture(train.head, featureShape, labels, activation)}`);
    const combinedHead = applyHead(cut.tensor, train.head, labels, activation, seed, priors);
    model = tf.model({ name: `${o.name.replace(/[^A-Za-z0-9_]/g, '_')}_transfer`, inputs: base.model.inputs, outputs: combinedHead.output });
    combinedHead.finish(model);
    // Checked now, so that a base the backend cannot fine-tune fails before phase 1, not after it.
    const toTrain = train.freeze_base
      ? train.fine_tune_layers > 0
        ? layersToUnfreeze(model, base.model, train.fine_tune_layers, train.file, 'fine_tune_layers')
        : []
      : layersToUnfreeze(model, base.model, Infinity, train.file, 'freeze_base');

    if (train.freeze_base) {
      const extractor = featureExtractor(base.model, cut);
      // Phase 1: the head alone, on the frozen base's features (inference mode).
      const bar = (what: string) => (done: number, total: number) => progress.bar(`base features (${what})`, done, total);
      let trainFeed: Feed;
      if (!augment) {
        precomputed = true;
        log(`frozen base, no augmentation: computing base features once per image (${split.train.length + split.validation.length} images)`);
        const features = await precomputeFeatures(extractor, images, split.train, train.batch_size, bar('train'), o.signal);
        trainFeed = precomputedFeed(features, featureShape);
      } else {
        log('frozen base with augmentation: base features of each augmented batch are computed as it is trained on');
        trainFeed = featureFeed(extractor, trainImages);
      }
      const valFeatures = await precomputeFeatures(extractor, images, split.validation, train.batch_size, bar('validation'), o.signal);
      const featuresInput = tf.input({ shape: featureShape, name: 'features' });
      const headOnly = applyHead(featuresInput, train.head, labels, activation, seed, priors);
      const head = tf.model({ name: 'head', inputs: featuresInput, outputs: headOnly.output });
      headOnly.finish(head);
      const r1 = await fit({
        ...common,
        phase: 'head',
        model: head,
        feed: trainFeed,
        validationFeed: precomputedFeed(valFeatures, featureShape),
        epochs: train.epochs,
        learningRate: train.initial_learning_rate,
        seed: seed + 1,
        onEpoch: onEpoch(train.epochs),
      });
      phases.push(phaseRecord('head', train.epochs, train.initial_learning_rate, r1, []));
      history.push(...r1.history);
      interrupted = r1.interrupted;
      anyEpoch = r1.bestEpoch > 0;
      // The trained head's weights go into the same layers of base + head.
      for (const layer of head.layers) {
        if (layer.weights.length > 0) model.getLayer(layer.name).setWeights(layer.getWeights());
      }
      head.dispose();

      if (train.fine_tune_layers > 0 && anyEpoch && !interrupted) {
        // Phase 2: the top layers of the base too, on images, from phase 1's weights.
        const unfrozen = unfreeze(model, base.model, toTrain);
        const restore = batchNormInInferenceMode(model);
        const rate = train.fine_tune_learning_rate ?? train.initial_learning_rate / 10;
        log(`fine-tuning: ${unfrozen.join(', ')} and the head, learning rate ${rate} (BatchNormalization frozen, inference mode)`);
        try {
          const r2 = await fit({
            ...common,
            phase: 'fine-tune',
            model,
            feed: trainImages,
            validationFeed: images,
            epochs: train.fine_tune_epochs,
            learningRate: rate,
            seed: seed + 2,
            keepStart: true,
            onEpoch: onEpoch(train.fine_tune_epochs),
          });
          phases.push(phaseRecord('fine-tune', train.fine_tune_epochs, rate, r2, unfrozen));
          history.push(...r2.history);
          interrupted = r2.interrupted;
        } finally {
          restore();
        }
      }
    } else {
      const unfrozen = unfreeze(model, base.model, toTrain);
      const restore = batchNormInInferenceMode(model);
      try {
        const r = await fit({ ...common, phase: 'train', model, feed: trainImages, validationFeed: images, epochs: train.epochs, learningRate: train.initial_learning_rate, seed: seed + 1, onEpoch: onEpoch(train.epochs) });
        phases.push(phaseRecord('train', train.epochs, train.initial_learning_rate, r, unfrozen));
        history.push(...r.history);
        interrupted = r.interrupted;
        anyEpoch = r.bestEpoch > 0;
      } finally {
        restore();
      }
    }
  }
  for (const layer of model.layers) layer.trainable = true;

  if (!anyEpoch) {
    log('interrupted before the first epoch ended: nothing saved');
    disposeQuietly(model, base?.model);
    return { saved: false, interrupted, history };
  }

  // Final scores: the model as it will be served, on images (not on cached features).
  log(`evaluating on ${split.validation.length} validation and ${split.test.length} test images`);
  const evalBatch = Math.max(128, train.batch_size);
  const rowsOf = async (examples: Example[]) => {
    const rows = await predictRows(model, images, examples, evalBatch);
    return binary ? rows.map((r) => Float32Array.from(labelScores(r, { output: { name: OUTPUT_NAMES[activation], kind: activation }, labels: source.labels }))) : rows;
  };
  const valRows = await rowsOf(split.validation);
  const thresholds = source.task === 'multi' ? bestThresholds(valRows, split.validation, labels) : undefined;
  const validation = reportOf(source.task, valRows, split.validation, source.labels, thresholds);
  const test = split.test.length > 0 ? reportOf(source.task, await rowsOf(split.test), split.test, source.labels, thresholds) : undefined;
  log(`validation: ${summaryOf(validation)}`);
  if (test) log(`test: ${summaryOf(test)}`);

  const fingerprint = await source.fingerprint();
  const date = new Date().toISOString();
  const seconds = (Date.now() - started) / 1000;
  const trainedImages = phases.reduce((n, p) => n + p.epochsRun, 0) * split.train.length;
  const dataText = readFileSync(data.file, 'utf8');
  const trainText = readFileSync(train.file, 'utf8');
  const { raw: _dataRaw, ...dataEffective } = data;
  const { raw: _trainRaw, ...trainEffective } = train;
  void _dataRaw;
  void _trainRaw;
  const metadata: ModelMetadata = {
    input: signature.input,
    output: { name: OUTPUT_NAMES[activation], kind: activation, ...(thresholds ? { threshold: thresholds } : {}) },
    labels: [...source.labels],
    preprocessing: signature.preprocessing,
    training: {
      tool: 'specserve train',
      date,
      backend: o.backend,
      tfjs: tf.version.tfjs,
      data: {
        source: data.source,
        description: source.description,
        sha256: fingerprint.sha256,
        fingerprint,
      },
      configs: {
        data: { file: shownPath(data.file), sha256: sha256Text(dataText), values: data.raw, effective: dataEffective },
        train: { file: shownPath(train.file), sha256: sha256Text(trainText), values: train.raw, effective: trainEffective },
      },
      split: { seed: data.seed, train: split.train.length, validation: split.validation.length, test: split.test.length, testFrom: split.testFrom },
      task: source.task,
      loss: fitTask === 'multi' ? 'binaryCrossentropy' : 'categoricalCrossentropy',
      optimizer: 'adam',
      architecture,
      base: base && cut ? { model: base.ref, dir: base.dir, cutLayer: cut.layer, removed: cut.removed ?? null, frozen: train.freeze_base, fineTuneLayers: train.fine_tune_layers } : null,
      precomputedFeatures: precomputed,
      augmentation: train.use_augmentation ? train.augmentation : null,
      phases,
      epochs: history.length,
      interrupted,
      history: history.map(roundRecord),
      validation,
      test: test ?? null,
      ...(thresholds ? { thresholds: Object.fromEntries(source.labels.map((l, k) => [l, thresholds[k]])) } : {}),
      seconds: Math.round(seconds),
      msPerImage: Number(((phases.reduce((n, p) => n + p.seconds, 0) * 1000) / Math.max(1, trainedImages)).toFixed(2)),
    },
  };

  const version = chooseVersion(o.modelDir, o.version, o.overwrite ?? false);
  const dir = path.join(o.modelDir, String(version));
  const card = modelCard({
    name: o.name,
    version,
    metadata,
    dataDescription: source.description,
    fingerprint,
    dataConfigFile: shownPath(data.file),
    trainConfigFile: shownPath(train.file),
    dataConfigText: dataText,
    trainConfigText: trainText,
    split: { seed: data.seed, train: split.train.length, validation: split.validation.length, test: split.test.length, testFrom: split.testFrom },
    architecture,
    ...(base && cut ? { base: { ref: base.ref, cutLayer: cut.layer, ...(cut.removed ? { removed: cut.removed } : {}), frozen: train.freeze_base } } : {}),
    precomputedFeatures: precomputed,
    phases,
    history,
    validation,
    ...(test ? { test } : {}),
    backend: o.backend,
    tfjs: tf.version.tfjs,
    date,
    seconds,
    reproduce: reproduceCommand(data, train, o.name, version),
    ...(data.licence ? { licence: data.licence } : {}),
  });
  const files = await modelToFiles(model);
  files.set('MODEL_CARD.md', card);
  files.set(CONFUSION_PNG, await confusionMatrixPng(confusionTable(`${o.name} ${version}: ${test ? 'test' : 'validation'} images, ${summaryOf(test ?? validation)}`, test ?? validation)));
  if (existsSync(dir) && !(o.overwrite && o.version === version)) throw new Error(`${dir} appeared while training; not replacing it`);
  await writeModelDir(dir, files, metadata);
  disposeQuietly(model, base?.model);
  return { saved: true, interrupted, dir, version, metadata, validation, ...(test ? { test } : {}), history };
}
