import type * as tf from '@tensorflow/tfjs';
import type { GraphBuilder } from './graph-builder';

/**
 * A tensor of the graph being built. `shape` is Keras' (batch first, channels last, batch null);
 * `layout` says how a 4-D value is laid out in the ONNX graph (NCHW after a convolution).
 */
export interface Value {
  name: string;
  shape: (number | null)[];
  layout: 'nhwc' | 'nchw';
}

type Config = Record<string, unknown>;
/** A converted value, or why the layer cannot be converted. */
type Converted = Value | string;

/** A 4-D value in the wanted layout (a Transpose when it is in the other one). */
export function toLayout(g: GraphBuilder, value: Value, layout: 'nhwc' | 'nchw'): Value {
  if (value.shape.length !== 4 || value.layout === layout) return value;
  const perm = layout === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1];
  return { name: g.op('Transpose', [value.name], `${value.name}_${layout}`, { perm }), shape: value.shape, layout };
}

/** Keras' axis of a value (negative counts from the end) -> the axis in the graph's layout. */
function graphAxis(value: Value, axis: number): number {
  const rank = value.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (rank === 4 && value.layout === 'nchw') return [0, 2, 3, 1][a]!;
  return a;
}

/**
 * One layer -> its ONNX nodes. `inputs` are the layer's inputs as converted so far; `outShape`
 * is Keras' output shape. Returns the output value, or why the layer is not supported.
 */
export function convertLayer(g: GraphBuilder, layer: tf.layers.Layer, inputs: Value[], outShape: (number | null)[]): Converted {
  const config = layer.getConfig() as Config;
  const weights = layer.getWeights();
  const kind = layer.getClassName();
  const name = layer.name;
  const x = inputs[0]!;
  const single = (): string | undefined => (inputs.length === 1 ? undefined : `${kind} with ${inputs.length} inputs`);
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') return `data_format ${String(config.dataFormat)} (channels_last only)`;
  switch (kind) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D':
      return single() ?? convolution(g, kind, name, config, weights, x, outShape);
    case 'Dense':
      return single() ?? dense(g, name, config, weights, x, outShape);
    case 'BatchNormalization':
      return single() ?? batchNorm(g, name, config, weights, x, outShape);
    case 'Activation':
      return single() ?? activation(g, name, String(config.activation), x);
    case 'ReLU': {
      const { maxValue, negativeSlope, threshold } = config as { maxValue?: number | null; negativeSlope?: number; threshold?: number };
      if ((negativeSlope ?? 0) !== 0 || (threshold ?? 0) !== 0) return 'ReLU with negative_slope or threshold';
      if (maxValue === null || maxValue === undefined) return { ...x, name: g.op('Relu', [x.name], name) };
      return clip(g, name, x, 0, maxValue);
    }
    case 'LeakyReLU':
      return { ...x, name: g.op('LeakyRelu', [x.name], name, { alpha: Number(config.alpha ?? 0.3) }) };
    case 'Softmax': {
      const axis = config.axis === undefined ? -1 : Array.isArray(config.axis) && config.axis.length === 1 ? Number(config.axis[0]) : Number(config.axis);
      if (!Number.isInteger(axis)) return `Softmax over axes ${JSON.stringify(config.axis)}`;
      return { ...x, name: g.op('Softmax', [x.name], name, { axis: graphAxis(x, axis) }) };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return single() ?? pooling(g, kind, name, config, x, outShape);
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      const nchw = toLayout(g, x, 'nchw');
      const pooled = g.op(kind === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [nchw.name], name);
      if (outShape.length === 4) return { name: pooled, shape: outShape, layout: 'nchw' };
      return { name: g.op('Flatten', [pooled], `${name}_flat`, { axis: 1 }), shape: outShape, layout: 'nhwc' };
    }
    case 'Flatten': {
      if (x.shape.length === 2) return x;
      const nhwc = toLayout(g, x, 'nhwc'); // Keras flattens in H, W, C order
      return { name: g.op('Flatten', [nhwc.name], name, { axis: 1 }), shape: outShape, layout: 'nhwc' };
    }
    case 'Reshape': {
      const target = config.targetShape as number[];
      const nhwc = toLayout(g, x, 'nhwc');
      return { name: g.op('Reshape', [nhwc.name, g.int64s(`${name}_shape`, [0, ...target])], name), shape: outShape, layout: 'nhwc' };
    }
    case 'Dropout':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
      return x; // identity at inference
    case 'ZeroPadding2D': {
      const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
      const nchw = toLayout(g, x, 'nchw');
      const pads = g.int64s(`${name}_pads`, [0, 0, top, left, 0, 0, bottom, right]);
      return { name: g.op('Pad', [nchw.name, pads], name, { mode: 'constant' }), shape: outShape, layout: 'nchw' };
    }
    case 'Add':
    case 'Multiply':
    case 'Subtract': {
      if (inputs.some((v) => v.shape.length !== x.shape.length)) return `${kind} of inputs of different ranks`;
      const op = kind === 'Add' ? 'Add' : kind === 'Multiply' ? 'Mul' : 'Sub';
      if (kind === 'Subtract' && inputs.length !== 2) return 'Subtract needs two inputs';
      let acc = x;
      for (const [i, other] of inputs.slice(1).entries()) acc = { ...x, name: g.op(op, [acc.name, toLayout(g, other, x.layout).name], `${name}_${i}`) };
      return acc;
    }
    case 'Concatenate': {
      if (inputs.some((v) => v.shape.length !== x.shape.length)) return 'Concatenate of inputs of different ranks';
      const names = inputs.map((v) => toLayout(g, v, x.layout).name);
      return { name: g.op('Concat', names, name, { axis: graphAxis(x, Number(config.axis ?? -1)) }), shape: outShape, layout: x.layout };
    }
    case 'Rescaling': {
      const { scale, offset } = config as { scale: unknown; offset: unknown };
      if (typeof scale !== 'number' || typeof (offset ?? 0) !== 'number') return 'Rescaling with per-channel scale or offset';
      const scaled = g.op('Mul', [x.name, g.floats(`${name}_scale`, Float32Array.of(scale), [])], `${name}_mul`);
      return { ...x, name: g.op('Add', [scaled, g.floats(`${name}_offset`, Float32Array.of(Number(offset ?? 0)), [])], name) };
    }
    default:
      return `${kind} layers are not supported by the ONNX converter`;
  }
}

/** Keras' activation by name, applied elementwise (softmax over the channel axis). */
function activation(g: GraphBuilder, name: string, fn: string, x: Value): Converted {
  switch (fn) {
    case 'linear':
      return x;
    case 'relu':
      return { ...x, name: g.op('Relu', [x.name], name) };
    case 'relu6':
      return clip(g, name, x, 0, 6);
    case 'sigmoid':
      return { ...x, name: g.op('Sigmoid', [x.name], name) };
    case 'tanh':
      return { ...x, name: g.op('Tanh', [x.name], name) };
    case 'softmax':
      return { ...x, name: g.op('Softmax', [x.name], name, { axis: graphAxis(x, -1) }) };
    case 'elu':
      return { ...x, name: g.op('Elu', [x.name], name, { alpha: 1 }) };
    case 'selu':
      return { ...x, name: g.op('Selu', [x.name], name) };
    case 'softplus':
      return { ...x, name: g.op('Softplus', [x.name], name) };
    case 'softsign':
      return { ...x, name: g.op('Softsign', [x.name], name) };
    case 'hardSigmoid':
      return { ...x, name: g.op('HardSigmoid', [x.name], name, { alpha: 0.2, beta: 0.5 }) };
    case 'swish':
    case 'silu':
      return { ...x, name: g.op('Mul', [x.name, g.op('Sigmoid', [x.name], `${name}_sigmoid`)], name) };
    default:
      return `activation ${fn} is not supported by the ONNX converter`;
  }
}

function clip(g: GraphBuilder, name: string, x: Value, min: number, max: number): Value {
  return { ...x, name: g.op('Clip', [x.name, g.floats(`${name}_min`, Float32Array.of(min), []), g.floats(`${name}_max`, Float32Array.of(max), [])], name) };
}

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)];
}

/** ONNX pads [top, left, bottom, right] for Keras' padding: `same` puts the odd pixel at the end, as TensorFlow does. */
function spatialPads(padding: unknown, inShape: (number | null)[], kernel: [number, number], strides: [number, number], dilation: [number, number]): number[] | string {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') return `padding ${String(padding)}`;
  const pads = [0, 1].map((i) => {
    const size = inShape[i + 1];
    if (size === null || size === undefined) return undefined;
    const out = Math.ceil(size / strides[i]!);
    const effective = (kernel[i]! - 1) * dilation[i]! + 1;
    const total = Math.max((out - 1) * strides[i]! + effective - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)] as const;
  });
  if (pads.some((p) => p === undefined)) return 'padding same on a free spatial size';
  const [h, w] = pads as [readonly [number, number], readonly [number, number]];
  return [h[0], w[0], h[1], w[1]];
}

/** HWIO (Keras) -> OIHW (ONNX). */
function hwioToOihw(k: Float32Array, [h, w, i, o]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < h!; y++)
    for (let x = 0; x < w!; x++)
      for (let c = 0; c < i!; c++)
        for (let f = 0; f < o!; f++) out[((f * i! + c) * h! + y) * w! + x] = k[((y * w! + x) * i! + c) * o! + f]!;
  return out;
}

function values(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

function convolution(g: GraphBuilder, kind: string, name: string, config: Config, weights: tf.Tensor[], x: Value, outShape: (number | null)[]): Converted {
  if (x.shape.length !== 4) return `${kind} on a rank-${x.shape.length} input`;
  const kernel = pair(config.kernelSize);
  const strides = pair(config.strides ?? 1);
  const dilation = pair(config.dilationRate ?? 1);
  if (dilation.some((d) => d !== 1) && strides.some((s) => s !== 1)) return `${kind} with both strides and dilation`;
  const pads = spatialPads(config.padding, x.shape, kernel, strides, dilation);
  if (typeof pads === 'string') return `${kind} ${pads}`;
  const useBias = config.useBias !== false;
  const nchw = toLayout(g, x, 'nchw');
  const attrs = { kernel_shape: kernel, strides, dilations: dilation, pads };
  let y: string;
  if (kind === 'Conv2D') {
    const k = weights[0]!;
    const w = g.floats(`${name}_kernel`, hwioToOihw(values(k), k.shape), [k.shape[3]!, k.shape[2]!, k.shape[0]!, k.shape[1]!]);
    const inputsOf = useBias ? [nchw.name, w, g.floats(`${name}_bias`, values(weights[1]!), [k.shape[3]!])] : [nchw.name, w];
    y = g.op('Conv', inputsOf, name, attrs);
  } else {
    // Depthwise: [H, W, C, M] -> [C*M, 1, H, W], one group per input channel (output channel c*M + m).
    const d = weights[0]!;
    const [h, w, c, m] = d.shape as [number, number, number, number];
    const dw = g.floats(`${name}_depthwise`, hwioToOihw(values(d), [h, w, 1, c * m]), [c * m, 1, h, w]);
    const depthBias = kind === 'DepthwiseConv2D' && useBias ? [g.floats(`${name}_bias`, values(weights[1]!), [c * m])] : [];
    y = g.op('Conv', [nchw.name, dw, ...depthBias], kind === 'DepthwiseConv2D' ? name : `${name}_depthwise`, { ...attrs, group: c });
    if (kind === 'SeparableConv2D') {
      const p = weights[1]!; // [1, 1, C*M, F]
      const filters = p.shape[3]!;
      const pw = g.floats(`${name}_pointwise`, hwioToOihw(values(p), p.shape), [filters, c * m, 1, 1]);
      const bias = useBias ? [g.floats(`${name}_bias`, values(weights[2]!), [filters])] : [];
      y = g.op('Conv', [y, pw, ...bias], name, { kernel_shape: [1, 1] });
    }
  }
  return activation(g, `${name}_act`, String(config.activation ?? 'linear'), { name: y, shape: outShape, layout: 'nchw' });
}

function dense(g: GraphBuilder, name: string, config: Config, weights: tf.Tensor[], x: Value, outShape: (number | null)[]): Converted {
  const k = weights[0]!;
  const [units] = k.shape.slice(1) as [number];
  const kernel = g.floats(`${name}_kernel`, values(k), k.shape);
  const useBias = config.useBias !== false;
  const bias = useBias ? g.floats(`${name}_bias`, values(weights[1]!), [units]) : undefined;
  let y: string;
  if (x.shape.length === 2) {
    y = g.op('Gemm', bias ? [x.name, kernel, bias] : [x.name, kernel], name);
  } else {
    // Dense on a higher-rank input acts on the last (Keras) axis.
    const nhwc = toLayout(g, x, 'nhwc');
    y = g.op('MatMul', [nhwc.name, kernel], bias ? `${name}_matmul` : name);
    if (bias) y = g.op('Add', [y, bias], name);
  }
  return activation(g, `${name}_act`, String(config.activation ?? 'linear'), { name: y, shape: outShape, layout: 'nhwc' });
}

function batchNorm(g: GraphBuilder, name: string, config: Config, weights: tf.Tensor[], x: Value, outShape: (number | null)[]): Converted {
  const rank = x.shape.length;
  const axis = Array.isArray(config.axis) ? config.axis : [config.axis ?? -1];
  if (axis.length !== 1 || !(Number(axis[0]) === -1 || Number(axis[0]) === rank - 1)) return `BatchNormalization over axis ${JSON.stringify(config.axis)} (the channel axis only)`;
  if (rank !== 2 && rank !== 4) return `BatchNormalization on a rank-${rank} input`;
  const channels = x.shape[rank - 1] as number;
  const rest = [...weights];
  const gamma = config.scale !== false ? values(rest.shift()!) : new Float32Array(channels).fill(1);
  const beta = config.center !== false ? values(rest.shift()!) : new Float32Array(channels);
  const [mean, variance] = rest.map(values) as [Float32Array, Float32Array];
  const input = toLayout(g, x, 'nchw');
  const y = g.op(
    'BatchNormalization',
    [input.name, g.floats(`${name}_gamma`, gamma, [channels]), g.floats(`${name}_beta`, beta, [channels]), g.floats(`${name}_mean`, mean, [channels]), g.floats(`${name}_var`, variance, [channels])],
    name,
    { epsilon: Number(config.epsilon ?? 1e-3) },
  );
  return { name: y, shape: outShape, layout: input.layout };
}

function pooling(g: GraphBuilder, kind: string, name: string, config: Config, x: Value, outShape: (number | null)[]): Converted {
  if (x.shape.length !== 4) return `${kind} on a rank-${x.shape.length} input`;
  const kernel = pair(config.poolSize ?? 2);
  const strides = pair(config.strides ?? kernel);
  const pads = spatialPads(config.padding, x.shape, kernel, strides, [1, 1]);
  if (typeof pads === 'string') return `${kind} ${pads}`;
  const nchw = toLayout(g, x, 'nchw');
  // AveragePool leaves the padding out of the mean (count_include_pad 0), as TensorFlow does.
  const y = g.op(kind === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [nchw.name], name, { kernel_shape: kernel, strides, pads });
  return { name: y, shape: outShape, layout: 'nchw' };
}
