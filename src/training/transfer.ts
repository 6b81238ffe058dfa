import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readLayersModelFiles } from '../model-store/files';
import type { ModelMetadata } from '../model-store/metadata';
import { MODEL_NAME } from '../model-store/repository';
import { ConfigError } from './data/yaml-config';

/**
 * Transfer learning: a model of the store (e.g. `imagenet`, MobileNet v1) cut below its
 * classifier, used as a feature extractor under a new head.
 */

export interface BaseModel {
  model: tf.LayersModel;
  metadata: ModelMetadata;
  dir: string;
  /** `name:version`, or the folder path for a base given by path. */
  ref: string;
}

/** Integer version folders of a model folder, ascending. */
export function versionsIn(modelDir: string): number[] {
  if (!existsSync(modelDir)) return [];
  return readdirSync(modelDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[1-9][0-9]{0,8}$/.test(e.name))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b);
}

/**
 * Where `ref` points: `name` (its highest version in `store`), `name:version`, or a version folder
 * path (containing a slash; relative to `relativeTo`).
 */
export function resolveModelRef(ref: string, store: string, relativeTo: string): { dir: string; ref: string } {
  if (ref.includes('/') || ref.includes(path.sep)) {
    const dir = path.resolve(relativeTo, ref);
    if (!existsSync(path.join(dir, 'model.json'))) throw new Error(`${dir} has no model.json`);
    return { dir, ref: dir };
  }
  const [name, version] = ref.split(':') as [string, string | undefined];
  if (!MODEL_NAME.test(name)) throw new Error(`${JSON.stringify(name)} is not a model name`);
  const modelDir = path.join(store, name);
  const versions = versionsIn(modelDir);
  if (versions.length === 0) throw new Error(`no model ${JSON.stringify(name)} in the store ${store}`);
  if (version === undefined) return { dir: path.join(modelDir, String(versions[versions.length - 1])), ref: `${name}:${versions[versions.length - 1]}` };
  if (!/^[1-9][0-9]{0,8}$/.test(version) || !versions.includes(Number(version))) {
    throw new Error(`${name} has no version ${JSON.stringify(version)} in ${store} (versions: ${versions.join(', ')})`);
  }
  return { dir: path.join(modelDir, version), ref: `${name}:${version}` };
}

/** Loads a store model with the project's reader (no tfjs-node file:// handler needed). */
export async function loadBaseModel(ref: string, store: string, trainConfigFile: string): Promise<BaseModel> {
  let where;
  try {
    where = resolveModelRef(ref, store, path.dirname(trainConfigFile));
  } catch (e) {
    throw new ConfigError(trainConfigFile, 'base_model', (e as Error).message);
  }
  const { metadata, artifacts } = await readLayersModelFiles(where.dir);
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  return { model, metadata, dir: where.dir, ref: where.ref };
}

/** Layers that pass features through unchanged in meaning (skipped when looking for the cut). */
const PASS_THROUGH = new Set(['Dropout', 'Reshape', 'Activation', 'Softmax', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);
const CLASSIFIERS = new Set(['Dense', 'Conv2D']);

export interface Cut {
  layer: string;
  tensor: tf.SymbolicTensor;
  /** The classifier layer that was cut off (auto), or undefined with `cut_layer`. */
  removed?: string;
}

/**
 * The tensor the new head goes on. With `cutLayer`, that layer's output. Otherwise: walk back
 * from the output past reshapes / activations / dropout to the classifier (the last Dense or
 * Conv2D), then past the dropout / reshape feeding it: for MobileNet v1 that is
 * global_average_pooling2d_1 ([null, 256] at alpha 0.25; conv_preds, its 1x1 convolution, is the
 * classifier), for a CNN with a Dense classifier the layer below it.
 */
export function findCut(model: tf.LayersModel, cutLayer: string | undefined, trainConfigFile: string): Cut {
  if (cutLayer !== undefined) {
    let layer;
    try {
      layer = model.getLayer(cutLayer);
    } catch {
      const names = model.layers.slice(-12).map((l) => l.name);
      throw new ConfigError(trainConfigFile, 'cut_layer', `the base has no layer ${JSON.stringify(cutLayer)} (its last layers: ${names.join(', ')})`);
    }
    const out = layer.output;
    if (Array.isArray(out)) throw new ConfigError(trainConfigFile, 'cut_layer', `${cutLayer} has several outputs; pick a layer with one`);
    return { layer: cutLayer, tensor: out };
  }
  let t = model.outputs[0]!;
  const back = (s: tf.SymbolicTensor): tf.SymbolicTensor => {
    if (s.inputs.length !== 1) throw new ConfigError(trainConfigFile, 'cut_layer', `cannot find the classifier automatically: ${s.sourceLayer.name} has ${s.inputs.length} inputs; name the layer to cut at`);
    return s.inputs[0]!;
  };
  while (PASS_THROUGH.has(t.sourceLayer.getClassName())) t = back(t);
  if (!CLASSIFIERS.has(t.sourceLayer.getClassName())) {
    throw new ConfigError(trainConfigFile, 'cut_layer', `cannot find the classifier automatically (reached ${t.sourceLayer.name}, a ${t.sourceLayer.getClassName()}); name the layer to cut at`);
  }
  const removed = t.sourceLayer.name;
  t = back(t);
  while (PASS_THROUGH.has(t.sourceLayer.getClassName())) t = back(t);
  if (t.sourceLayer.getClassName() === 'InputLayer') throw new ConfigError(trainConfigFile, 'cut_layer', 'the base model is only a classifier; nothing is left below it');
  return { layer: t.sourceLayer.name, tensor: t, removed };
}

/** The base up to the cut, as a model of its own (inference only: the feature extractor). */
export function featureExtractor(base: tf.LayersModel, cut: Cut): tf.LayersModel {
  return tf.model({ name: 'features', inputs: base.inputs, outputs: cut.tensor });
}

/** The layers of `model` that come from `base` (not its input), bottom to top. */
function baseLayers(model: tf.LayersModel, base: tf.LayersModel): tf.layers.Layer[] {
  const fromBase = new Set(base.layers);
  return model.layers.filter((l) => fromBase.has(l) && l.getClassName() !== 'InputLayer');
}

/** Kernels whose gradients training through a layer of this class needs, if the backend may lack them. */
const GRADIENT_KERNELS: Record<string, string[]> = {
  DepthwiseConv2D: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
  SeparableConv2D: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
};

/**
 * The base layers `fine_tune_layers: n` unfreezes: the top `n` base layers that have weights, not
 * counting BatchNormalization (which stays frozen); n = Infinity: all of them. Throws a
 * ConfigError if the backend cannot compute the gradient of one of them (the wasm backend has no
 * depthwise-convolution gradients), so a run fails before training, not after phase 1.
 */
export function layersToUnfreeze(model: tf.LayersModel, base: tf.LayersModel, n: number, trainConfigFile: string, key: string): tf.layers.Layer[] {
  const weighted = baseLayers(model, base).filter((l) => l.weights.length > 0 && l.getClassName() !== 'BatchNormalization');
  const top = n >= weighted.length ? weighted : weighted.slice(weighted.length - n);
  const backend = tf.getBackend();
  for (const layer of top) {
    const missing = (GRADIENT_KERNELS[layer.getClassName()] ?? []).filter((k) => !tf.getKernel(k, backend));
    if (missing.length > 0) {
      const allowed = [...weighted].reverse().findIndex((l) => GRADIENT_KERNELS[l.getClassName()] !== undefined);
      throw new ConfigError(
        trainConfigFile,
        key,
        `would train ${layer.name} (${layer.getClassName()}), but the ${backend} backend has no ${missing.join(' / ')} kernel; ` +
          `at most ${allowed} top layer(s) of this base can be trained on ${backend}`,
      );
    }
  }
  return top;
}

/** Makes `layers` (of the base) and every non-base layer (the head) trainable, the rest of the base frozen. Returns their names. */
export function unfreeze(model: tf.LayersModel, base: tf.LayersModel, layers: readonly tf.layers.Layer[]): string[] {
  const trainable = new Set(layers);
  const fromBase = new Set(base.layers);
  for (const layer of model.layers) layer.trainable = fromBase.has(layer) ? trainable.has(layer) : true;
  return layers.map((l) => l.name);
}

/**
 * Makes every BatchNormalization layer of `model` normalise with its moving statistics even in a
 * training step, and keeps its statistics unchanged (tfjs, unlike Keras 2.1+, uses batch
 * statistics for a frozen BatchNormalization in training mode). Returns the function undoing it.
 */
export function batchNormInInferenceMode(model: tf.LayersModel): () => void {
  const restores: (() => void)[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const patched = layer as unknown as { call: (inputs: unknown, kwargs: Record<string, unknown>) => unknown };
    const original = patched.call;
    patched.call = function (this: unknown, inputs, kwargs) {
      return original.call(this, inputs, { ...kwargs, training: false });
    };
    restores.push(() => {
      patched.call = original;
    });
    layer.trainable = false;
  }
  return () => restores.forEach((r) => r());
}
