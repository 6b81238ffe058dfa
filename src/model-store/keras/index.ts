import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { KERAS_MODEL_FILES } from '../file-names';
import type { ModelMetadata } from '../metadata';
import { KerasRefused, parseModelConfig, signatureOf } from './config';
import { defaultMetadata, mergeMetadata } from './defaults';
import type { KerasContent } from './keras-file';
import { kerasMaxWeightsBytes } from './limits';
import { readKeras } from './read';

/**
 * Keras files in the model store and for `specserve import`: one entry for the metadata a
 * version serves with, one for the TF.js artifacts it loads. Errors name the file and the reason.
 */
export { KerasRefused } from './config';
export type { KerasContent } from './keras-file';


/** The Keras file of a version folder, if it has one. */
export function kerasFileIn(dir: string): string | undefined {
  return KERAS_MODEL_FILES.map((name) => path.join(dir, name)).find((file) => existsSync(file));
}

/** Prefixes a refusal with the file, so every message names it. */
function named(file: string, e: unknown): Error {
  if (e instanceof KerasRefused) return new KerasRefused(`${file}: ${e.message}`);
  return new Error(`${file}: ${(e as Error).message}`);
}

/** Reads a Keras file (its config and declared sizes; the weights too when `weights`). */
export async function readKerasFile(file: string, weights: boolean, maxWeightsBytes = kerasMaxWeightsBytes()): Promise<KerasContent> {
  try {
    return await readKeras(file, { weights, maxWeightsBytes });
  } catch (e) {
    throw named(file, e);
  }
}

/** metadata.json's defaults for a Keras file's content, with `given` (a metadata.json, partial or whole) over them. */
export function kerasMetadata(content: KerasContent, file: string, given: unknown, metadataFile: string): ModelMetadata {
  let defaults: ModelMetadata;
  try {
    defaults = defaultMetadata(signatureOf(parseModelConfig(JSON.parse(content.modelConfigJson))), path.dirname(file));
  } catch (e) {
    if (given !== undefined && e instanceof KerasRefused) return mergeMetadata({} as ModelMetadata, given, metadataFile);
    throw named(file, e);
  }
  return mergeMetadata(defaults, given, metadataFile);
}

/** The TF.js artifacts of a Keras file's content (read with weights). */
export async function kerasModelArtifacts(content: KerasContent, file: string): Promise<tf.io.ModelArtifacts> {
  try {
    // Loaded here, not at the top: the main thread reads Keras metadata without TensorFlow.js.
    const { kerasArtifacts } = await import('./artifacts');
    return await kerasArtifacts(content, path.basename(file));
  } catch (e) {
    throw named(file, e);
  }
}

/** A version folder's metadata.json as JSON, or undefined when there is none. */
export async function optionalJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}
