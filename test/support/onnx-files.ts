import { onnx } from 'onnx-proto';

const { DataType, DataLocation } = onnx.TensorProto;

/** A one-node graph (Relu) with the given input type; options add what an untrusted file might hold. */
export function tinyOnnx(options: { inputType?: number; domain?: string; externalLocation?: string } = {}): Uint8Array {
  const type = (elemType: number) => ({ tensorType: { elemType, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 2 }, { dimValue: 2 }, { dimValue: 1 }] } } });
  const initializer: onnx.ITensorProto[] = options.externalLocation
    ? [{ name: 'w', dims: [1], dataType: DataType.FLOAT, dataLocation: DataLocation.EXTERNAL, externalData: [{ key: 'location', value: options.externalLocation }, { key: 'offset', value: '0' }, { key: 'length', value: '4' }] }]
    : [];
  const model: onnx.IModelProto = {
    irVersion: 7,
    producerName: 'test',
    opsetImport: [{ domain: '', version: 13 }, ...(options.domain ? [{ domain: options.domain, version: 1 }] : [])],
    graph: {
      name: 'g',
      node: [{ opType: options.domain ? 'MagicOp' : 'Relu', domain: options.domain ?? '', input: ['x'], output: ['y'], name: 'n0' }],
      initializer,
      input: [{ name: 'x', type: type(options.inputType ?? DataType.FLOAT) }],
      output: [{ name: 'y', type: type(DataType.FLOAT) }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

