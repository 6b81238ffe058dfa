import type * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './graph-builder';
import { convertLayer, toLayout, type Value } from './layers';

/** The model cannot be expressed in ONNX by this converter; the reason names the layer. */
export class UnsupportedModel extends Error {}

/** A converted model: the ONNX bytes and what its single input and output are called. */
export interface ConvertedModel {
  onnx: Uint8Array;
  inputName: string;
  outputName: string;
}

/**
 * A TF.js layers model (Sequential or Functional, one input, one output; what model.json, and
 * Keras files read into the same artifacts, describe) -> an ONNX graph (opset 13) computing the
 * same function. Weights come from the loaded layers, so weight naming does not matter.
 * 4-D values are kept NCHW inside the graph (what ONNX Runtime's convolutions want) and
 * transposed back to Keras' NHWC only where the order of elements matters (Flatten, Reshape,
 * Dense on 4-D, the output). Throws UnsupportedModel naming the first layer it cannot convert.
 */
export function convertLayersModel(model: tf.LayersModel): ConvertedModel {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UnsupportedModel(`${model.inputs.length} inputs and ${model.outputs.length} outputs (one of each is supported)`);
  }
  const input = model.inputs[0]!;
  const output = model.outputs[0]!;
  const inputDims = input.shape.slice(1);
  if (inputDims.some((d) => d === null)) throw new UnsupportedModel(`input shape [${input.shape}] has free dimensions besides the batch`);
  const g = new GraphBuilder();
  const inputName = g.fresh(input.name || 'input');
  // Reserved before the layers take names: the graph's output keeps the output layer's name.
  const outputName = g.fresh(output.sourceLayer.name || 'output');
  const values = new Map<number, Value>([[input.id, { name: inputName, shape: input.shape, layout: 'nhwc' }]]);

  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const node = layer.inboundNodes.find((n) => n.inputTensors.every((t) => values.has(t.id)) && !n.outputTensors.some((t) => values.has(t.id)));
    if (!node || layer.inboundNodes.length !== 1) throw new UnsupportedModel(`layer ${layer.name} (${layer.getClassName()}) is shared or nested`);
    if (node.outputTensors.length !== 1) throw new UnsupportedModel(`layer ${layer.name} has ${node.outputTensors.length} outputs`);
    const out = node.outputTensors[0]!;
    const converted = convertLayer(g, layer, node.inputTensors.map((t) => values.get(t.id)!), out.shape);
    if (typeof converted === 'string') throw new UnsupportedModel(`layer ${layer.name}: ${converted}`);
    values.set(out.id, converted);
  }
  const result = values.get(output.id);
  if (!result) throw new UnsupportedModel(`the output ${output.name} is not reached from the input`);
  const final = toLayout(g, result, 'nhwc');
  return { onnx: g.encode({ name: inputName, dims: inputDims as number[] }, { name: outputName, value: final.name }), inputName, outputName };
}

