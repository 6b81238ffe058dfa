import { LAYER_ALIASES, MODEL_CLASSES, REFUSED_LAYERS, SUPPORTED_LAYERS } from './layers';

/**
 * A Keras model config (the `model_config` attribute of an .h5, `config.json` of a .keras):
 * checks what TF.js cannot build, before any weights are read, and translates Keras 3's
 * serialization to the Keras 2 form TF.js reads. Pure data, no TF.js.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A refusal: what is wrong and what to do; the reader prefixes the file name. */
export class KerasRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KerasRefused';
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface KerasLayer {
  className: string;
  name: string;
  config: JsonObject;
  /** Keras 3 functional nodes or Keras 2 `inbound_nodes`, as written. */
  inboundNodes?: Json;
}

/** The parts of a model config the rest of the reader needs. */
export interface KerasModel {
  className: 'Sequential' | 'Functional' | 'Model';
  name: string;
  layers: KerasLayer[];
  raw: JsonObject;
}

/** Parses the model config's outer shape; a weights-only or foreign JSON is refused here. */
export function parseModelConfig(json: unknown): KerasModel {
  if (!isObject(json) || typeof json.class_name !== 'string' || !isObject(json.config)) {
    throw new KerasRefused('its model config is not a Keras model ({"class_name", "config"})');
  }
  const className = json.class_name;
  if (className !== 'Sequential' && className !== 'Functional' && className !== 'Model') {
    throw new KerasRefused(`the saved object is a ${className}, not a Sequential or Functional model; save the model (model.save), not a layer`);
  }
  const layers = json.config.layers;
  if (!Array.isArray(layers)) throw new KerasRefused('its model config has no layers list');
  return {
    className,
    name: typeof json.config.name === 'string' ? json.config.name : 'model',
    raw: json,
    layers: layers.map((layer, i) => {
      if (!isObject(layer) || typeof layer.class_name !== 'string' || !isObject(layer.config)) {
        throw new KerasRefused(`layer ${i} of its model config has no class_name and config`);
      }
      const name = typeof layer.config.name === 'string' ? layer.config.name : typeof layer.name === 'string' ? layer.name : `layer ${i}`;
      return { className: layer.class_name, name, config: layer.config, inboundNodes: layer.inbound_nodes };
    }),
  };
}

/** The name of a dtype or dtype policy (`float32`, `mixed_float16`, ...), if any. */
function dtypeName(dtype: Json | undefined): string | undefined {
  if (typeof dtype === 'string') return dtype;
  if (isObject(dtype) && isObject(dtype.config) && typeof dtype.config.name === 'string') return dtype.config.name;
  return undefined;
}

/**
 * Every reason TF.js cannot run this model, each naming the layer and its class; empty when it
 * can. Checked on the config alone, so nothing else of the file is read for a refused model.
 */
export function refusals(model: KerasModel): string[] {
  const problems: string[] = [];
  for (const layer of model.layers) {
    const cls = LAYER_ALIASES[layer.className] ?? layer.className;
    const what = `layer '${layer.name}' (${layer.className})`;
    if (MODEL_CLASSES.includes(cls)) {
      problems.push(`${what} is a nested model (a model used as a layer); rebuild it as one flat Sequential or Functional model (e.g. call the inner model's layers on the outer input), or export ONNX`);
      continue;
    }
    const refused = REFUSED_LAYERS[cls];
    if (refused) problems.push(`${what} is not supported: ${refused}`);
    else if (!SUPPORTED_LAYERS.includes(cls)) problems.push(`${what} is not supported: TF.js has no such layer (a custom or newer Keras layer); export the model to ONNX`);
    const dtype = dtypeName(layer.config.dtype);
    if (dtype !== undefined && dtype !== 'float32') {
      problems.push(`${what} computes in ${dtype} (mixed precision); set keras.mixed_precision.set_global_policy('float32'), rebuild the model, load the weights and save again`);
    }
  }
  return problems;
}

/** A Keras 3 `__keras_tensor__` reference -> Keras 2's [layer, node, tensor, kwargs]. */
function kerasHistory(arg: Json): Json[] | undefined {
  if (!isObject(arg) || arg.class_name !== '__keras_tensor__' || !isObject(arg.config)) return undefined;
  const history = arg.config.keras_history;
  if (!Array.isArray(history) || history.length !== 3) return undefined;
  return [...history, {}];
}

/** Keras 3 `inbound_nodes` ([{args, kwargs}]) -> Keras 2 ([[[layer, node, tensor, kwargs], ...]]). */
function translateNodes(nodes: Json | undefined, layerName: string): Json {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    if (Array.isArray(node)) return node; // already Keras 2
    if (!isObject(node) || !Array.isArray(node.args)) throw new KerasRefused(`layer '${layerName}': an inbound node this reader does not understand`);
    const inputs: Json[] = [];
    for (const arg of node.args) {
      const single = kerasHistory(arg);
      if (single) inputs.push(single);
      else if (Array.isArray(arg)) {
        for (const item of arg) {
          const ref = kerasHistory(item);
          if (ref) inputs.push(ref);
        }
      }
    }
    if (inputs.length === 0) throw new KerasRefused(`layer '${layerName}' is called on something other than Keras tensors (constants or Python values); export the model to ONNX`);
    return inputs;
  });
}

/** `["img", 0, 0]` (Keras 3, one input) -> `[["img", 0, 0]]`. */
function listOfRefs(refs: Json | undefined): Json {
  if (Array.isArray(refs) && typeof refs[0] === 'string') return [refs];
  return refs ?? [];
}

/**
 * Keras 3 wraps initializers, regularizers, constraints and dtypes as {module, class_name,
 * config, registered_name}; TF.js wants {class_name, config}. `L2` / `L1` are unknown to TF.js:
 * they become `L1L2`. A float32 dtype policy becomes the plain string.
 */
function translateValue(key: string, value: Json): Json {
  if (Array.isArray(value)) return value.map((v) => translateValue('', v));
  if (!isObject(value)) return value;
  if (key === 'dtype' && typeof value.class_name === 'string') return dtypeName(value) ?? 'float32';
  if (typeof value.class_name === 'string' && 'config' in value) {
    const config = isObject(value.config) ? translateConfig(value.config) : value.config;
    if (value.class_name === 'L2' && isObject(config)) return { class_name: 'L1L2', config: { l1: 0, l2: config.l2 ?? 0.01 } };
    if (value.class_name === 'L1' && isObject(config)) return { class_name: 'L1L2', config: { l1: config.l1 ?? 0.01, l2: 0 } };
    return { class_name: value.class_name, config };
  }
  return translateConfig(value);
}

function translateConfig(config: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(config)) out[key] = translateValue(key, value);
  return out;
}

/**
 * The model config as TF.js's `modelFromJSON` reads it (Keras 2 form). Keras 2 configs pass
 * unchanged but for `batch_input_shape` on layers other than the first (TF.js warns on it).
 */
export function toTfjsTopology(model: KerasModel, kerasVersion: string): JsonObject {
  const layers: JsonObject[] = model.layers.map((layer, i) => {
    const config = translateConfig(layer.config);
    if (layer.className === 'InputLayer') {
      if (config.batch_shape !== undefined && config.batch_input_shape === undefined) config.batch_input_shape = config.batch_shape;
      delete config.batch_shape;
      delete config.optional;
    } else if (i > 0 || model.className !== 'Sequential') {
      delete config.batch_input_shape;
      delete config.batch_shape;
    }
    delete config.build_config;
    delete config.quantization_config;
    const className = LAYER_ALIASES[layer.className] ?? layer.className;
    const out: JsonObject = { class_name: className, config, name: layer.name };
    if (model.className !== 'Sequential') out.inbound_nodes = translateNodes(layer.inboundNodes, layer.name);
    return out;
  });
  const outer = model.raw.config as JsonObject;
  const config: JsonObject = { name: model.name, layers };
  if (model.className !== 'Sequential') {
    config.input_layers = listOfRefs(outer.input_layers);
    config.output_layers = listOfRefs(outer.output_layers);
  }
  return { class_name: model.className === 'Sequential' ? 'Sequential' : 'Model', config, keras_version: kerasVersion, backend: 'tensor_flow.js' };
}

/** What the model takes and gives, read from the config (for defaults and the model card). */
export interface ModelSignature {
  inputName: string;
  /** Without the batch axis; null for a dimension left open. */
  inputShape: (number | null)[];
  outputName: string;
  /** Units of the output layer (walking back through activations and dropouts), if the config says. */
  outputUnits?: number;
  /** The output's activation (`softmax`, `sigmoid`, `linear`...), if the config says. */
  outputActivation?: string;
}

function shapeOf(config: JsonObject): (number | null)[] | undefined {
  const shape = config.batch_input_shape ?? config.batch_shape;
  if (!Array.isArray(shape) || shape.length < 2) return undefined;
  return shape.slice(1).map((d) => (typeof d === 'number' ? d : null));
}

/** Layers whose output has their (first) input's shape: the output size is found behind them. */
const PASS_THROUGH = new Set(['Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Subtract', 'Activation', 'Softmax', 'Dropout', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU']);

/** The layers feeding `layer` in a functional model (their names). */
function inboundNames(layer: KerasLayer): string[] {
  const names: string[] = [];
  const visit = (value: Json | undefined): void => {
    if (Array.isArray(value)) {
      if (typeof value[0] === 'string' && typeof value[1] === 'number') names.push(value[0]);
      else value.forEach(visit);
    } else if (isObject(value)) {
      if (value.class_name === '__keras_tensor__' && isObject(value.config)) visit(value.config.keras_history);
      else Object.values(value).forEach(visit);
    }
  };
  visit(layer.inboundNodes);
  return names;
}

export function signatureOf(model: KerasModel): ModelSignature {
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const first = model.layers[0];
  if (!first) throw new KerasRefused('its model config has no layers');
  let inputLayer = first;
  let outputLayer = model.layers[model.layers.length - 1] ?? first;
  if (model.className !== 'Sequential') {
    const outer = model.raw.config as JsonObject;
    const inputs = listOfRefs(outer.input_layers) as Json[];
    const outputs = listOfRefs(outer.output_layers) as Json[];
    if (inputs.length !== 1 || outputs.length !== 1) {
      throw new KerasRefused(`the model has ${inputs.length} inputs and ${outputs.length} outputs; an image classifier has one of each`);
    }
    inputLayer = byName.get(String((inputs[0] as Json[])[0])) ?? first;
    outputLayer = byName.get(String((outputs[0] as Json[])[0])) ?? outputLayer;
  }
  const inputShape = shapeOf(inputLayer.config);
  if (!inputShape) throw new KerasRefused(`its first layer '${inputLayer.name}' declares no input shape; build the model with an Input(shape=...) before saving`);
  const inputName = inputLayer.className === 'InputLayer' ? inputLayer.name : `${inputLayer.name}_input`;
  let outputActivation: string | undefined;
  let outputUnits: number | undefined;
  let layer: KerasLayer | undefined = outputLayer;
  let previous = model.className === 'Sequential' ? model.layers.length - 1 : -1;
  while (layer) {
    const { config } = layer;
    if (outputActivation === undefined) {
      if (layer.className === 'Softmax') outputActivation = 'softmax';
      else if (typeof config.activation === 'string' && config.activation !== 'linear') outputActivation = config.activation;
    }
    if (typeof config.units === 'number') {
      outputUnits = config.units;
      outputActivation ??= typeof config.activation === 'string' ? config.activation : 'linear';
      break;
    }
    if (!PASS_THROUGH.has(layer.className)) break;
    if (model.className === 'Sequential') layer = model.layers[--previous];
    else {
      const [first] = inboundNames(layer);
      layer = first === undefined ? undefined : byName.get(first);
    }
  }
  return { inputName, inputShape, outputName: outputLayer.name, outputUnits, outputActivation };
}
