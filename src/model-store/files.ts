import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { KERAS_MODEL_FILES, kerasFileIn, kerasMetadata, kerasModelArtifacts, optionalJson, readKerasFile } from './keras';
import { type ModelMetadata, parseMetadata } from './metadata';

/**
 * The files that make a version folder a model, in the order they are looked for: a TF.js
 * layers model (model.json + shards), else a Keras file (model.keras, model.h5) read directly.
 */
export const MODEL_FILES: readonly string[] = ['model.json', ...KERAS_MODEL_FILES];

/**
 * The Keras file a version folder serves from, or undefined for a TF.js folder (model.json wins
 * when both are there). A folder with neither is refused here, a SavedModel with what to do.
 */
function kerasFileOf(dir: string): string | undefined {
  if (existsSync(path.join(dir, 'model.json'))) return undefined;
  const keras = kerasFileIn(dir);
  if (keras) return keras;
  if (existsSync(path.join(dir, 'saved_model.pb'))) {
    throw new Error(`${dir}: a TensorFlow SavedModel (saved_model.pb) cannot be served without TensorFlow; in Python save the model as .keras (model.save("model.keras")) and drop that in or run specserve import, or export it to ONNX`);
  }
  return undefined;
}

/** One version's files, read and checked, ready to hand to TensorFlow.js. */
export interface ModelFiles {
  metadata: ModelMetadata;
  artifacts: tf.io.ModelArtifacts;
}

interface ModelJson {
  modelTopology?: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Reads and checks a version folder's `metadata.json` alone (what the HTTP side needs); for a Keras version, its defaults from the Keras config with metadata.json, if any, over them. */
export async function readModelMetadata(dir: string): Promise<ModelMetadata> {
  const metadataFile = path.join(dir, 'metadata.json');
  const keras = kerasFileOf(dir);
  if (keras) return kerasMetadata(await readKerasFile(keras, false), keras, await optionalJson(metadataFile), metadataFile);
  return parseMetadata(await readJson(metadataFile), metadataFile);
}

/**
 * Reads `model.json`, its weight shards and `metadata.json` from a version folder. TF.js's own
 * file:// loader needs tfjs-node; reading the files here works on every backend. A Keras version
 * (model.keras / model.h5, metadata.json optional) gives the same artifacts (see keras/).
 */
export async function readModelFiles(dir: string): Promise<ModelFiles> {
  const keras = kerasFileOf(dir);
  if (keras) {
    const metadataFile = path.join(dir, 'metadata.json');
    const content = await readKerasFile(keras, true);
    return { metadata: kerasMetadata(content, keras, await optionalJson(metadataFile), metadataFile), artifacts: await kerasModelArtifacts(content, keras) };
  }
  const metadata = await readModelMetadata(dir);

  const modelFile = path.join(dir, 'model.json');
  const modelJson = (await readJson(modelFile)) as ModelJson;
  if (typeof modelJson !== 'object' || modelJson === null || !modelJson.modelTopology) {
    throw new Error(`${modelFile}: no modelTopology; expected a TF.js layers model (model.json + weight shards)`);
  }
  const manifest = modelJson.weightsManifest ?? [];
  const weightSpecs = manifest.flatMap((group) => group.weights);
  const shards = await Promise.all(
    manifest.flatMap((group) => group.paths).map(async (shard) => {
      const file = path.resolve(dir, shard);
      if (path.dirname(file) !== path.resolve(dir)) throw new Error(`${modelFile}: weight path ${shard} leaves the version folder`);
      try {
        return await readFile(file);
      } catch (e) {
        throw new Error(`${modelFile}: weight shard ${shard} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }),
  );
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const shard of shards) {
    weightData.set(shard, offset);
    offset += shard.byteLength;
  }
  return {
    metadata,
    artifacts: {
      modelTopology: modelJson.modelTopology,
      format: modelJson.format,
      generatedBy: modelJson.generatedBy,
      convertedBy: modelJson.convertedBy ?? undefined,
      weightSpecs,
      weightData: weightData.buffer,
    },
  };
}
