import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type KerasModel, KerasRefused, parseModelConfig, refusals } from './config';
import { declared, type H5Dataset, type H5Group, isDataset, isGroup, openHdf5, readFloat32, stringAttribute, stringListAttribute } from './hdf5';
import { ZipError, ZipFile } from './zip';

/**
 * Reads a Keras file into plain data: its model config, Keras version and, when asked, its
 * weights by layer. Everything that refuses a model is checked before any weight is read: the
 * format, the config (layers TF.js cannot build, nested models, mixed precision), and the
 * weights' declared size against the limit. Three layouts:
 * - Keras 2 HDF5 (tf.keras 2.x `model.save('x.h5')`) and Keras 3 legacy `.h5`: attributes
 *   `model_config`, `keras_version`; weights in `model_weights/<layer>/` named by the layer
 *   group's `weight_names` attribute (Keras 2: `conv2d/kernel:0`; Keras 3: `sequential/conv2d/kernel`).
 * - Keras 3 `.keras`: a zip of config.json, metadata.json and model.weights.h5, whose weights are
 *   stored by attribute path (`layers/dense_1/vars/0`); the `vars` group's `name` attribute is the layer name.
 */
export type KerasFormat = 'keras-h5' | 'keras-zip';

export interface LayerWeights {
  layer: string;
  /** In the layer's own order (Keras `layer.weights`). */
  tensors: Array<{ shape: number[]; data: Float32Array }>;
}

export interface KerasContent {
  format: KerasFormat;
  kerasVersion: string;
  backend?: string;
  /**
   * The model config as JSON text (parsed where it is used: objects cloned from the reading
   * thread belong to another realm under jest, which TF.js's array checks do not accept).
   */
  modelConfigJson: string;
  /** Bytes of all weights as float32, from the datasets' declared shapes. */
  weightBytes: number;
  parameters: number;
  /** Present when the weights were asked for. */
  weights?: LayerWeights[];
}

export interface ReadOptions {
  /** Read the weights (else only config and declared sizes). */
  weights: boolean;
  /** Refuse a file whose weights declare more bytes than this. */
  maxWeightsBytes: number;
}

/** config.json of a .keras: large models' configs run to a few MB; 64 MB is generous. */
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

/** A weight tensor found, not yet read. */
interface Found {
  layer: string;
  datasets: H5Dataset[];
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new KerasRefused(`${what} is not valid JSON (${(e as Error).message})`);
  }
}

function checkConfig(json: unknown): KerasModel {
  const model = parseModelConfig(json);
  const problems = refusals(model);
  if (problems.length > 0) throw new KerasRefused(problems.join('; '));
  return model;
}

/** The weights to read, checked for type and total size before any is read. */
function sizeUp(found: Found[], maxWeightsBytes: number): { weightBytes: number; parameters: number } {
  let parameters = 0;
  for (const { layer, datasets } of found) {
    for (const dataset of datasets) {
      const d = declared(dataset);
      if (d.kind === 'float16') {
        throw new KerasRefused(`layer '${layer}' stores float16 weights (mixed precision); save the model in float32`);
      }
      if (d.kind !== 'float32' && d.kind !== 'float64') throw new KerasRefused(`layer '${layer}' has a ${d.kind} weight (${dataset.path}); only float weights are read`);
      parameters += d.shape.reduce((n, x) => n * x, 1);
    }
  }
  const weightBytes = parameters * 4;
  if (weightBytes > maxWeightsBytes) {
    throw new KerasRefused(`its weights declare ${weightBytes} bytes (${parameters} parameters), more than KERAS_MAX_WEIGHTS_BYTES=${maxWeightsBytes}; raise the limit if the machine has the memory (it is held about three times while loading)`);
  }
  return { weightBytes, parameters };
}

function readAll(found: Found[]): LayerWeights[] {
  return found.map(({ layer, datasets }) => ({
    layer,
    tensors: datasets.map((dataset) => ({ shape: declared(dataset).shape, data: readFloat32(dataset) })),
  }));
}

/** Keras 2 / Keras 3 legacy .h5: `model_weights/<layer>/<weight_names>`. */
function findH5Weights(root: H5Group): Found[] {
  const group = root.get('model_weights');
  const weightsRoot = isGroup(group) ? group : root;
  const layerNames = stringListAttribute(weightsRoot, 'layer_names') ?? [];
  return layerNames.map((layer) => {
    const layerGroup = weightsRoot.get(layer);
    if (!isGroup(layerGroup)) throw new KerasRefused(`layer_names lists '${layer}' but the file has no weights group for it (a corrupt file)`);
    const names = stringListAttribute(layerGroup, 'weight_names') ?? [];
    const datasets = names.map((name) => {
      const dataset = layerGroup.get(name);
      if (!isDataset(dataset)) throw new KerasRefused(`weight ${name} of layer '${layer}' is missing (a corrupt file)`);
      return dataset;
    });
    return { layer, datasets };
  });
}

function datasetsOf(group: H5Group): H5Dataset[] {
  return group
    .keys()
    .filter((k) => /^[0-9]+$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => group.get(k))
    .filter(isDataset);
}

/** Keras 3 model.weights.h5: `layers/<path>/vars/<i>`, layer name in the vars group's `name`. */
function findZipWeights(root: H5Group): Found[] {
  const layersGroup = root.get('layers');
  if (!isGroup(layersGroup)) return [];
  const found: Found[] = [];
  for (const key of layersGroup.keys()) {
    const layerGroup = layersGroup.get(key);
    if (!isGroup(layerGroup)) continue;
    const vars = layerGroup.get('vars');
    const layer = (isGroup(vars) ? stringAttribute(vars, 'name') : undefined) ?? key;
    let datasets = isGroup(vars) ? datasetsOf(vars) : [];
    // Recurrent layers keep their weights in their cell.
    const cellVars = layerGroup.get('cell/vars');
    if (datasets.length === 0 && isGroup(cellVars)) datasets = datasetsOf(cellVars);
    if (datasets.length > 0) found.push({ layer, datasets });
  }
  return found;
}

async function readH5(file: string, options: ReadOptions): Promise<KerasContent> {
  const h5 = await openHdf5(file);
  try {
    const configText = stringAttribute(h5, 'model_config');
    if (configText === undefined) {
      const weightsOnly = stringListAttribute(h5, 'layer_names') !== undefined || isGroup(h5.get('model_weights')) || isGroup(h5.get('layers'));
      throw new KerasRefused(
        weightsOnly
          ? 'it holds weights only (written by save_weights: no model_config); save the whole model with model.save("model.keras") (or .h5), which keeps the architecture'
          : 'it is an HDF5 file but not a Keras model (no model_config attribute)',
      );
    }
    checkConfig(parseJson(configText, 'its model_config attribute'));
    const found = findH5Weights(h5);
    const size = sizeUp(found, options.maxWeightsBytes);
    return {
      format: 'keras-h5',
      kerasVersion: stringAttribute(h5, 'keras_version') ?? 'unknown',
      backend: stringAttribute(h5, 'backend'),
      modelConfigJson: configText,
      ...size,
      weights: options.weights ? readAll(found) : undefined,
    };
  } finally {
    h5.close();
  }
}

async function readZip(file: string, options: ReadOptions): Promise<KerasContent> {
  let zip: ZipFile;
  try {
    zip = await ZipFile.open(file);
  } catch (e) {
    if (e instanceof ZipError) throw new KerasRefused(`not a readable .keras zip: ${e.message}`);
    throw e;
  }
  try {
    if (!zip.entries.has('config.json')) {
      const names = [...zip.entries.keys()].slice(0, 8).join(', ') || 'nothing';
      throw new KerasRefused(`the .keras zip has no config.json (it holds: ${names}); save the model with model.save("model.keras") from Keras 3`);
    }
    const modelConfigJson = (await zip.read('config.json', MAX_CONFIG_BYTES)).toString('utf8');
    checkConfig(parseJson(modelConfigJson, 'config.json'));
    let kerasVersion = 'unknown';
    if (zip.entries.has('metadata.json')) {
      const metadata = parseJson((await zip.read('metadata.json', 1024 * 1024)).toString('utf8'), 'metadata.json in the .keras zip');
      if (typeof metadata === 'object' && metadata !== null && typeof (metadata as { keras_version?: unknown }).keras_version === 'string') {
        kerasVersion = (metadata as { keras_version: string }).keras_version;
      }
    }
    const weightsEntry = zip.entries.get('model.weights.h5');
    if (!weightsEntry) throw new KerasRefused('the .keras zip has no model.weights.h5');
    // HDF5 overhead is small next to the weights: a weights file far over the limit is refused unextracted.
    if (weightsEntry.size > options.maxWeightsBytes * 1.25 + 16 * 1024 * 1024) {
      throw new KerasRefused(`its model.weights.h5 is ${weightsEntry.size} bytes, more than KERAS_MAX_WEIGHTS_BYTES=${options.maxWeightsBytes} allows`);
    }
    // h5wasm opens host paths: the weights file is extracted to a private temporary folder.
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'specserve-keras-'));
    try {
      const weightsFile = path.join(tmp, 'model.weights.h5');
      await zip.extract('model.weights.h5', weightsFile);
      const h5 = await openHdf5(weightsFile).catch((e: Error) => {
        throw new KerasRefused(`its model.weights.h5 is unreadable: ${e.message}`);
      });
      try {
        const found = findZipWeights(h5);
        const size = sizeUp(found, options.maxWeightsBytes);
        return { format: 'keras-zip', kerasVersion, modelConfigJson, ...size, weights: options.weights ? readAll(found) : undefined };
      } finally {
        h5.close();
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    if (e instanceof ZipError) throw new KerasRefused(`not a readable .keras zip: ${e.message}`);
    throw e;
  } finally {
    await zip.close();
  }
}

/** Reads `file` (.h5 or .keras, told apart by content); errors are KerasRefused saying why. */
export async function readKerasContent(file: string, options: ReadOptions): Promise<KerasContent> {
  const head = Buffer.alloc(4);
  const handle = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new KerasRefused(`cannot be read (${e.code ?? e.message})`);
  });
  let bytesRead: number;
  try {
    ({ bytesRead } = await handle.read(head, 0, 4, 0));
  } finally {
    await handle.close();
  }
  if (bytesRead === 4 && head.readUInt32LE(0) === 0x04034b50) return readZip(file, options);
  if (bytesRead === 4 && head[0] === 0x89 && head.toString('latin1', 1, 4) === 'HDF') {
    try {
      return await readH5(file, options);
    } catch (e) {
      if (e instanceof KerasRefused) throw e;
      throw new KerasRefused(`the HDF5 file cannot be read (truncated or corrupt): ${(e as Error).message}`);
    }
  }
  throw new KerasRefused('neither an HDF5 file (.h5: no \\x89HDF signature) nor a zip (.keras); is it a Keras model saved with model.save()?');
}
