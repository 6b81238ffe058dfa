import type { ModelFiles } from '../../model-store/files';
import { type ModelMetadata, outputUnits } from '../../model-store/metadata';
import type { GraphDim } from '../../model-store/onnx-file';
import { convertLayersModel } from './onnx-convert/convert';
import type { EngineChoice, EngineName } from './engine';
import { loadOnnx, type OnnxGraph } from './onnx';
import { loadTfjs, type TfjsModel } from './tfjs';

/**
 * Which engine runs a version, decided once per load (in one thread), then carried to every
 * worker: `onnx` with the graph to run (an ONNX file's bytes, or a TF.js model converted in
 * memory), or `tfjs`. `reason` says why, for the log and the metadata routes.
 */
export type LoadPlan = (EngineChoice & { name: 'tfjs' }) | (EngineChoice & { name: 'onnx'; graph: OnnxGraph });

/** Largest |difference| allowed between a converted graph's outputs and TF.js's on the probe batch. */
export const PARITY_TOLERANCE = 1e-4;
/** Inputs in the probe batch. */
const PROBE_SIZE = 4;

/**
 * The fixed probe batch: the same deterministic values (0..1) for every load, so a parity verdict
 * is reproducible. The first input is all zeros (a blank image), the others pseudo-random.
 */
export function probeBatch(inputShape: readonly number[]): Float32Array {
  const size = inputShape.reduce((a, b) => a * b, 1);
  const batch = new Float32Array(PROBE_SIZE * size);
  let state = 0x9e3779b9;
  for (let i = size; i < batch.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    batch[i] = state / 2 ** 32;
  }
  return batch;
}

export function maxAbsDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let max = 0;
  a.forEach((row, i) => {
    const other = b[i]!;
    if (other.length !== row.length) max = Infinity;
    row.forEach((v, j) => {
      const d = Math.abs(v - (other[j] ?? NaN));
      if (Number.isNaN(d)) max = Infinity; // a NaN on either side is no match
      else if (d > max) max = d;
    });
  });
  return max;
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A planned version, with the TF.js model still loaded when TF.js serves it (the caller keeps or frees it). */
export interface Planned {
  plan: LoadPlan;
  tfjs?: TfjsModel;
}

/**
 * Decides the engine of one version. An ONNX file runs on ONNX (its interface checked against
 * metadata.json). A TF.js layers model is converted to ONNX in memory and checked against TF.js
 * on the probe batch: within PARITY_TOLERANCE it runs on ONNX, otherwise (or when a layer cannot
 * be converted) on TF.js, with the reason. `forced` is config.yaml's `engine:`.
 * Throws, naming the file, when the version cannot serve at all.
 */
export async function planVersion(files: ModelFiles, dir: string, forced?: EngineName, tolerance = PARITY_TOLERANCE): Promise<Planned> {
  const { metadata } = files;
  if (files.format === 'onnx') {
    if (forced === 'tfjs') throw new Error(`${files.file}: config.yaml says engine: tfjs, but TF.js cannot run an ONNX file`);
    const graph = onnxGraphFor(files, metadata);
    const what = `model.onnx${files.graph.producer ? ` from ${files.graph.producer}` : ''}, opset ${files.graph.opset}`;
    return { plan: { name: 'onnx', reason: forced === 'onnx' ? `engine: onnx in config.yaml (${what})` : what, graph } };
  }

  let tfjs: TfjsModel;
  try {
    tfjs = await loadTfjs(files.artifacts, metadata.input.shape);
  } catch (e) {
    throw new Error(`${dir}/model.json: TensorFlow.js cannot load it: ${(e as Error).message}`);
  }
  try {
    const inputShape = tfjs.model.inputs[0]?.shape.slice(1) ?? [];
    if (!sameShape(inputShape, metadata.input.shape)) {
      throw new Error(`${dir}/metadata.json: input.shape [${metadata.input.shape}] does not match the model's input [${inputShape}]`);
    }
    const outputShape = tfjs.model.outputs[0]?.shape.slice(1) ?? [];
    if (!sameShape(outputShape, [outputUnits(metadata)])) {
      throw new Error(`${dir}/metadata.json: ${metadata.labels.length} labels (output.kind ${metadata.output.kind}) but the model outputs [${outputShape}]`);
    }
    if (forced === 'tfjs') return { plan: { name: 'tfjs', reason: 'engine: tfjs in config.yaml' }, tfjs };
    const converted = await convertAndCheck(tfjs, metadata, tolerance);
    if (typeof converted === 'string') {
      if (forced === 'onnx') throw new Error(`${dir}/model.json: config.yaml says engine: onnx, but ${converted}`);
      return { plan: { name: 'tfjs', reason: converted }, tfjs };
    }
    tfjs.dispose();
    return { plan: { name: 'onnx', reason: forced === 'onnx' ? `engine: onnx in config.yaml; ${converted.reason}` : converted.reason, graph: converted.graph } };
  } catch (e) {
    tfjs.dispose();
    throw e;
  }
}

/** Converts and compares on the probe batch; a string says why TF.js keeps the version. */
async function convertAndCheck(tfjs: TfjsModel, metadata: ModelMetadata, tolerance: number): Promise<{ graph: OnnxGraph; reason: string } | string> {
  let graph: OnnxGraph;
  try {
    const converted = convertLayersModel(tfjs.model);
    graph = { model: converted.onnx, inputName: converted.inputName, outputName: converted.outputName, layout: 'NHWC', fixedBatch: false };
  } catch (e) {
    return `not converted to ONNX: ${(e as Error).message}`;
  }
  const probe = probeBatch(metadata.input.shape);
  const n = probe.length / metadata.input.shape.reduce((a, b) => a * b, 1);
  let diff: number;
  try {
    const onnx = await loadOnnx(graph, metadata.input.shape, { threads: 1 });
    try {
      diff = maxAbsDiff(await onnx.run(probe, n), await tfjs.run(probe, n));
    } finally {
      onnx.dispose();
    }
  } catch (e) {
    return `the converted ONNX graph does not run: ${(e as Error).message.split('\n')[0]}`;
  }
  if (!(diff <= tolerance)) return `the converted ONNX graph differs from TF.js by ${diff.toExponential(2)} on the probe batch (more than ${tolerance})`;
  return { graph, reason: `converted from TF.js layers at load; matches TF.js within ${diff.toExponential(1)} on the probe batch` };
}

/** The ONNX file's graph against metadata.json: input name, layout and sizes, output units. */
function onnxGraphFor(files: Extract<ModelFiles, { format: 'onnx' }>, metadata: ModelMetadata): OnnxGraph {
  const { input, output, externalData } = files.graph;
  const where = `${files.file}`;
  const meta = `${files.file.replace(/model\.onnx$/, 'metadata.json')}`;
  if (input.name !== metadata.input.name) throw new Error(`${meta}: input.name '${metadata.input.name}' does not match the graph's input '${input.name}' (${where})`);
  if (output.name !== metadata.output.name) throw new Error(`${meta}: output.name '${metadata.output.name}' does not match the graph's output '${output.name}' (${where})`);
  if (input.dims.length !== 4) throw new Error(`${where}: input ${input.name} has ${input.dims.length} dimensions [${input.dims}]; an image model takes [batch, height, width, channels] or [batch, channels, height, width]`);
  const [batch, ...rest] = input.dims as [GraphDim, GraphDim, GraphDim, GraphDim];
  if (typeof batch === 'number' && batch !== 1) throw new Error(`${where}: the batch axis of input ${input.name} is fixed at ${batch}; a free batch axis or 1 is supported`);
  const [h, w, c] = metadata.input.shape as [number, number, number];
  const fits = (want: number[]) => rest.every((d, i) => typeof d !== 'number' || d === want[i]);
  const nhwc = fits([h, w, c]);
  const nchw = fits([c, h, w]);
  const layout = metadata.input.layout ?? (nchw && !nhwc ? 'NCHW' : nhwc ? 'NHWC' : undefined);
  if (!layout || (layout === 'NHWC' && !nhwc) || (layout === 'NCHW' && !nchw)) {
    throw new Error(`${meta}: input.shape [${metadata.input.shape}]${metadata.input.layout ? ` (layout ${metadata.input.layout})` : ''} does not match the graph's input [${input.dims}] (${where})`);
  }
  const units = output.dims.at(-1);
  if (typeof units === 'number' && units !== outputUnits(metadata)) {
    throw new Error(`${meta}: ${metadata.labels.length} labels (output.kind ${metadata.output.kind}) but the graph's output ${output.name} is [${output.dims}] (${where})`);
  }
  return { model: externalData ? files.file : files.onnx, inputName: input.name, outputName: output.name, layout, fixedBatch: batch === 1 };
}
