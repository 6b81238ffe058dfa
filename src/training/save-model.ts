import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseMetadata, type ModelMetadata } from '../model-store/metadata';

/**
 * Saves a LayersModel in the standard TF.js "layers-model" file format without tfjs-node (whose
 * file:// handler is not available here): model.json + weight shards + our metadata.json.
 *
 * The files are written into a hidden temporary sibling folder and renamed into place only when
 * all of them are complete, so a server watching the model store never sees half a model.
 */

/** TF.js converter default; keeps every file well below the repository's 5 MB limit. */
export const MAX_SHARD_BYTES = 4 * 1024 * 1024;

/** The files of one saved model, by file name: model.json text and binary weight shards. */
export type ModelFiles = Map<string, string | Uint8Array>;

function concatWeightData(data: tf.io.WeightData): Uint8Array {
  const buffers = Array.isArray(data) ? data : [data];
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

/**
 * Turns the artifacts a save handler receives into files: `model.json` (format 'layers-model',
 * one weight group) and `group1-shardKofN.bin`, each shard at most `maxShardBytes`. Shards are
 * plain byte ranges of the concatenated weights (a weight may span two shards), exactly as the
 * TF.js loaders expect.
 */
export function artifactsToFiles(artifacts: tf.io.ModelArtifacts, maxShardBytes = MAX_SHARD_BYTES): ModelFiles {
  if (artifacts.modelTopology instanceof ArrayBuffer || artifacts.modelTopology == null) {
    throw new Error('save-model: expected a JSON layers-model topology');
  }
  const weights = artifacts.weightData ? concatWeightData(artifacts.weightData) : new Uint8Array(0);
  const shardCount = Math.max(1, Math.ceil(weights.byteLength / maxShardBytes));
  const files: ModelFiles = new Map();
  const paths: string[] = [];
  for (let i = 0; i < shardCount; i++) {
    const name = `group1-shard${i + 1}of${shardCount}.bin`;
    paths.push(name);
    files.set(name, weights.subarray(i * maxShardBytes, Math.min((i + 1) * maxShardBytes, weights.byteLength)));
  }
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
  files.set('model.json', JSON.stringify(modelJson));
  return files;
}

/** Collects a model's artifacts through tf.io.withSaveHandler (no file system involved). */
export async function modelToFiles(model: tf.LayersModel, maxShardBytes = MAX_SHARD_BYTES): Promise<ModelFiles> {
  let files: ModelFiles | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      files = artifactsToFiles(artifacts, maxShardBytes);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (!files) throw new Error('save-model: the save handler was not called');
  return files;
}

/**
 * Writes `files` plus `metadata.json` (checked by parseMetadata first, so an invalid metadata
 * never reaches disk) into `dir`, atomically replacing any previous content of `dir`:
 * everything goes to `.<name>.partial-<pid>` beside it, then one rename puts it in place. If
 * `dir` already exists it is first renamed aside and deleted afterwards; between those two
 * renames (microseconds) `dir` is briefly absent, never partial.
 */
export async function writeModelDir(dir: string, files: ModelFiles, metadata: ModelMetadata): Promise<void> {
  const target = path.resolve(dir);
  const checked = parseMetadata(JSON.parse(JSON.stringify(metadata)), path.join(target, 'metadata.json'));
  const parent = path.dirname(target);
  const base = path.basename(target);
  await fs.mkdir(parent, { recursive: true });
  // Dot-prefixed so that a model-store scanner looking for version folders ignores them.
  const partial = path.join(parent, `.${base}.partial-${process.pid}`);
  const old = path.join(parent, `.${base}.old-${process.pid}`);
  await fs.rm(partial, { recursive: true, force: true });
  await fs.mkdir(partial);
  try {
    for (const [name, content] of files) await fs.writeFile(path.join(partial, name), content);
    await fs.writeFile(path.join(partial, 'metadata.json'), `${JSON.stringify(checked, null, 2)}\n`);
    let hadOld = false;
    try {
      await fs.rename(target, old);
      hadOld = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await fs.rename(partial, target);
    if (hadOld) await fs.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fs.rm(partial, { recursive: true, force: true });
    throw e;
  }
}

/** model.json + shards + metadata.json into `dir`, atomically (see writeModelDir). */
export async function saveModel(model: tf.LayersModel, dir: string, metadata: ModelMetadata): Promise<void> {
  await writeModelDir(dir, await modelToFiles(model), metadata);
}
