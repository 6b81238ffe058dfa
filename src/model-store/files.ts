import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { MODEL_FILES } from './file-names';
import { kerasFileIn, kerasMetadata, kerasModelArtifacts, optionalJson, readKerasFile } from './keras';
import { type ModelMetadata, parseMetadata } from './metadata';
import { inspectOnnx, type OnnxGraphInfo } from './onnx-file';

/**
/**
 * One version's files, read and checked: a TF.js layers model (model.json + weight shards, or a
 * Keras file read into the same artifacts, which TensorFlow.js loads from memory) or an ONNX
 * graph (model.onnx, checked as untrusted).
 */
export type ModelFiles =
  | { format: 'tfjs-layers'; metadata: ModelMetadata; artifacts: tf.io.ModelArtifacts }
  | { format: 'onnx'; metadata: ModelMetadata; file: string; onnx: Uint8Array; graph: OnnxGraphInfo };


/**
 * The Keras file a version folder serves from, or undefined for a TF.js or ONNX folder (model.json
 * or model.onnx wins when a Keras file is there too). A SavedModel is refused with what to do.
 */
function kerasFileOf(dir: string): string | undefined {
  if (existsSync(path.join(dir, MODEL_FILES['tfjs-layers'])) || existsSync(path.join(dir, MODEL_FILES.onnx))) return undefined;
  const keras = kerasFileIn(dir);
  if (keras) return keras;
  if (existsSync(path.join(dir, 'saved_model.pb'))) {
    throw new Error(`${dir}: a TensorFlow SavedModel (saved_model.pb) cannot be served without TensorFlow; in Python save the model as .keras (model.save("model.keras")) and drop that in or run specserve import, or export it to ONNX`);
  }
  return undefined;
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
 * Reads a version folder: `metadata.json` and either `model.onnx` or `model.json` with its
 * weight shards (both present is refused: which one was meant is not the server's guess), or a
 * Keras file (model.keras / model.h5, metadata.json optional), read into layers artifacts.
 */
export async function readModelFiles(dir: string): Promise<ModelFiles> {
  const keras = kerasFileOf(dir);
  if (keras) {
    const metadataFile = path.join(dir, 'metadata.json');
    const content = await readKerasFile(keras, true);
    return { format: 'tfjs-layers', metadata: kerasMetadata(content, keras, await optionalJson(metadataFile), metadataFile), artifacts: await kerasModelArtifacts(content, keras) };
  }
  const metadata = await readModelMetadata(dir);
  const onnxFile = path.join(dir, MODEL_FILES.onnx);
  const hasOnnx = existsSync(onnxFile);
  if (hasOnnx && existsSync(path.join(dir, MODEL_FILES['tfjs-layers']))) throw new Error(`${dir}: holds both model.onnx and model.json; keep one model per version folder`);
  if (hasOnnx) {
    let bytes: Buffer;
    try {
      bytes = await readFile(onnxFile);
    } catch (e) {
      throw new Error(`${onnxFile}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const onnx = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { format: 'onnx', metadata, file: onnxFile, onnx, graph: inspectOnnx(onnx, onnxFile) };
  }
  return { format: 'tfjs-layers', metadata, artifacts: await readLayersArtifacts(dir) };
}

/**
 * Reads `model.json` and its weight shards into TF.js artifacts. TF.js's own file:// loader
 * needs tfjs-node; reading the files here works on every backend.
 */
export async function readLayersArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
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
    modelTopology: modelJson.modelTopology,
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy ?? undefined,
    weightSpecs,
    weightData: weightData.buffer,
  };
}

/** A version that must be a TF.js layers model (training from it, tools that run TF.js directly). */
export async function readLayersModelFiles(dir: string): Promise<{ metadata: ModelMetadata; artifacts: tf.io.ModelArtifacts }> {
  const files = await readModelFiles(dir);
  if (files.format !== 'tfjs-layers') throw new Error(`${dir}: holds an ONNX model; this needs a TF.js layers model (model.json + weights)`);
  return files;
}
