import { onnx } from 'onnx-proto';

/** The opset the converter writes; every operator it emits is defined there. */
export const OPSET = 13;
/** IR version 7 is the first that carries opset 13. */
const IR_VERSION = 7;

/**
 * An ONNX graph under construction: nodes in execution order, float32 and int64 initializers,
 * unique value names. Knows nothing about Keras; layers.ts writes into it.
 */
export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly used = new Set<string>();

  /** A value name not used yet, derived from `hint` (layer names may repeat across nodes). */
  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./-]/g, '_') || 'v';
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds one node; returns its (single) output's name. */
  op(type: string, inputs: string[], hint: string, attributes: Record<string, number | number[] | string> = {}): string {
    const output = this.fresh(hint);
    this.nodes.push({ opType: type, input: inputs, output: [output], name: output, attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)) });
    return output;
  }

  /** A float32 constant of the given dims (values in row-major order). */
  floats(hint: string, values: Float32Array, dims: number[]): string {
    const name = this.fresh(hint);
    if (values.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`constant ${name}: ${values.length} values for dims [${dims}]`);
    const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }

  /** An int64 constant (shapes, pads). */
  int64s(hint: string, values: number[]): string {
    const name = this.fresh(hint);
    const bytes = new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer);
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: bytes });
    return name;
  }

  /** The serialised model: one float32 input with a free batch axis, one float32 output. */
  encode(input: { name: string; dims: number[] }, output: { name: string; value: string }): Uint8Array {
    const tensorType = (dims: (number | null)[]): onnx.ITypeProto => ({
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (d === null ? { dimParam: 'batch' } : { dimValue: d })) },
      },
    });
    // The last node writes the graph's output name directly.
    const last = this.nodes.at(-1);
    if (!last || last.output?.[0] !== output.value) this.nodes.push({ opType: 'Identity', input: [output.value], output: [output.name], name: output.name });
    else last.output = [output.name];
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'specserve',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: 'converted',
        node: this.nodes,
        initializer: this.initializers,
        input: [{ name: input.name, type: tensorType([null, ...input.dims]) }],
        output: [{ name: output.name, type: tensorType([]) }],
      },
    };
    // A rank-less output type: ONNX Runtime infers the shape.
    delete model.graph!.output![0]!.type!.tensorType!.shape;
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

function attribute(name: string, value: number | number[] | string): onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  return Number.isInteger(value) && !FLOAT_ATTRIBUTES.has(name) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
}

/** Attributes ONNX defines as floats even when the value is whole (alpha = 1, epsilon...). */
const FLOAT_ATTRIBUTES = new Set(['alpha', 'beta', 'epsilon', 'momentum', 'gamma']);
