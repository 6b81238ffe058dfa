import { status } from '@grpc/grpc-js';
import { loadSignatureDefMap } from '../../src/grpc/protos';
import { DEFAULT_IMAGE_LIMITS, decodeToGray } from '../../src/images';
import { call, failure, useGrpcServer } from '../support/grpc';
import { fixture, useTestService } from '../support/service';

/** A real MNIST digit's 784 pixel values, 0..1, row-major (what a client's numpy array holds). */
async function digitPixels(digit: number): Promise<Float32Array> {
  const { data } = await decodeToGray(fixture('mnist', `${digit}.png`), DEFAULT_IMAGE_LIMITS);
  return Float32Array.from(data);
}

const argmax = (row: ArrayLike<number>): number => Array.from(row).indexOf(Math.max(...Array.from(row)));
const shape = (...sizes: number[]) => ({ dim: sizes.map((size) => ({ size })) });
const floatTensor = (values: ArrayLike<number>, ...sizes: number[]) => ({ dtype: 'DT_FLOAT', tensor_shape: shape(...sizes), float_val: Array.from(values) });

interface PredictResponse {
  model_spec: { name: string; version: { value: number }; signature_name: string };
  outputs: Record<string, { dtype: string; tensor_shape: { dim: { size: number }[] }; float_val: number[] }>;
}

const service = useTestService();
const grpc = useGrpcServer(() => service);
const predict = (request: object) => call<PredictResponse>(grpc.clients.prediction, 'Predict', request);

describe('PredictionService/Predict', () => {
  it('classifies digits sent as float_val [batch, 28, 28, 1] and names the version that served', async () => {
    const [three, seven] = await Promise.all([digitPixels(3), digitPixels(7)]);
    const res = await predict({ model_spec: { name: 'mnist' }, inputs: { image: floatTensor([...three, ...seven], 2, 28, 28, 1) } });
    expect(res.model_spec).toMatchObject({ name: 'mnist', version: { value: 1 }, signature_name: 'serving_default' });
    const probs = res.outputs.probs!;
    expect(probs.dtype).toBe('DT_FLOAT');
    expect(probs.tensor_shape.dim.map((d) => d.size)).toEqual([2, 10]);
    expect([argmax(probs.float_val.slice(0, 10)), argmax(probs.float_val.slice(10))]).toEqual([3, 7]);
  });

  it('reads tensor_content (little-endian float32, as tf.make_tensor_proto writes) with or without the channel axis', async () => {
    const four = await digitPixels(4);
    const res = await predict({
      model_spec: { name: 'mnist', version: { value: 1 } },
      inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: shape(1, 28, 28), tensor_content: Buffer.from(four.buffer) } },
    });
    expect(argmax(res.outputs.probs!.float_val)).toBe(4);
  });

  it('takes DT_STRING image bytes through the model’s own preprocessing', async () => {
    const res = await predict({ model_spec: { name: 'mnist' }, inputs: { image: { dtype: 'DT_STRING', tensor_shape: shape(2), string_val: [fixture('mnist', '2.png'), fixture('mnist', '9.png')] } } });
    const values = res.outputs.probs!.float_val;
    expect([argmax(values.slice(0, 10)), argmax(values.slice(10))]).toEqual([2, 9]);
  });

  it.each([
    ['an unknown input name', { inputs: { pixels: floatTensor([0], 1, 28, 28) } }, /this model has one input, 'image'/],
    ['a wrong shape', { inputs: { image: floatTensor(new Array(27 * 28).fill(0), 1, 27, 28) } }, /wrong shape: expected \[28, 28, 1\] or \[28, 28\]/],
    ['too few values', { inputs: { image: floatTensor([0, 1], 1, 28, 28) } }, /needs 784 values; float_val holds 2/],
    ['tensor_content of the wrong length', { inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: shape(1, 28, 28), tensor_content: Buffer.alloc(10) } } }, /tensor_content holds 10 bytes/],
    ['NaN in tensor_content', { inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: shape(1, 28, 28), tensor_content: Buffer.from(new Float32Array(784).fill(NaN).buffer) } } }, /expected a finite number/],
    ['an unsupported dtype', { inputs: { image: { dtype: 'DT_INT32', tensor_shape: shape(1, 28, 28) } } }, /dtype DT_INT32 is not supported/],
    ['bytes that are not an image', { inputs: { image: { dtype: 'DT_STRING', tensor_shape: shape(1), string_val: [Buffer.from('hello')] } } }, /./],
    ['an unknown signature', { model_spec: { name: 'mnist', signature_name: 'predict_images' }, inputs: {} }, /signature key "predict_images" not found/],
    ['a version label', { model_spec: { name: 'mnist', version_label: 'stable' }, inputs: {} }, /no version labels/],
    ['no model name', { model_spec: { name: '' }, inputs: {} }, /model_spec.name is required/],
    ['an unknown output_filter', { output_filter: ['logits'], inputs: { image: floatTensor(new Array(784).fill(0), 1, 28, 28) } }, /unknown output 'logits'/],
  ])('answers %s with INVALID_ARGUMENT', async (_what, request, message) => {
    const error = await failure(predict({ model_spec: { name: 'mnist' }, ...request }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(message);
  });

  it('refuses a batch over MAX_BATCH_INSTANCES before reading its values', async () => {
    const error = await failure(predict({ model_spec: { name: 'mnist' }, inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: shape(5000, 28, 28) } } }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/5000 instances; at most 1000/);
  });

  it('answers an unknown model or version with NOT_FOUND', async () => {
    expect((await failure(predict({ model_spec: { name: 'letters' }, inputs: {} }))).code).toBe(status.NOT_FOUND);
    const error = await failure(predict({ model_spec: { name: 'mnist', version: { value: 42 } }, inputs: {} }));
    expect([error.code, error.details]).toEqual([status.NOT_FOUND, expect.stringMatching(/no available version 42/)]);
  });
});

describe('PredictionService/Classify', () => {
  it('ranks every class of tf.Examples holding an image (bytes_list) or the pixels (float_list)', async () => {
    const six = await digitPixels(6);
    const res = await call<{ model_spec: object; result: { classifications: { classes: { label: string; score: number }[] }[] } }>(grpc.clients.prediction, 'Classify', {
      model_spec: { name: 'mnist' },
      input: {
        example_list: {
          examples: [
            { features: { feature: { image: { bytes_list: { value: [fixture('mnist', '5.png')] } } } } },
            { features: { feature: { image: { float_list: { value: Array.from(six) } } } } },
          ],
        },
      },
    });
    const [first, second] = res.result.classifications;
    expect(first!.classes).toHaveLength(10);
    expect([first!.classes[0]!.label, second!.classes[0]!.label]).toEqual(['5', '6']);
    expect(first!.classes[0]!.score).toBeGreaterThanOrEqual(first!.classes[1]!.score);
  });

  it('answers an example without the input feature with INVALID_ARGUMENT', async () => {
    const error = await failure(call(grpc.clients.prediction, 'Classify', { model_spec: { name: 'mnist' }, input: { example_list: { examples: [{ features: { feature: { x: { float_list: { value: [1] } } } } }] } } }));
    expect([error.code, error.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(/no feature 'image'.*'x'/)]);
  });
});

describe('PredictionService/GetModelMetadata', () => {
  it('packs the serving_default SignatureDef in an Any, as TF Serving does', async () => {
    const res = await call<{ model_spec: { name: string; version: { value: number } }; metadata: Record<string, { type_url: string; value: Buffer }> }>(
      grpc.clients.prediction,
      'GetModelMetadata',
      { model_spec: { name: 'mnist' }, metadata_field: ['signature_def'] },
    );
    expect(res.model_spec).toMatchObject({ name: 'mnist', version: { value: 1 } });
    const any = res.metadata.signature_def!;
    expect(any.type_url).toBe('type.googleapis.com/tensorflow.serving.SignatureDefMap');
    const type = loadSignatureDefMap();
    const map = type.toObject(type.decode(any.value), { longs: Number, enums: String }) as { signature_def: Record<string, { inputs: Record<string, { name: string; tensor_shape: { dim: { size: number }[] } }>; method_name: string }> };
    const signature = map.signature_def.serving_default!;
    expect(signature.method_name).toBe('tensorflow/serving/predict');
    expect(signature.inputs.image!.name).toBe('image:0');
    expect(signature.inputs.image!.tensor_shape.dim.map((d) => d.size)).toEqual([-1, 28, 28, 1]);
  });

  it('wants metadata_field ["signature_def"]', async () => {
    const error = await failure(call(grpc.clients.prediction, 'GetModelMetadata', { model_spec: { name: 'mnist' }, metadata_field: [] }));
    expect([error.code, error.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(/ask for "signature_def"/)]);
  });
});

describe('ModelService/GetModelStatus', () => {
  it('reports the versions and their states', async () => {
    const res = await call(grpc.clients.model, 'GetModelStatus', { model_spec: { name: 'mnist' } });
    expect(res).toEqual({ model_version_status: [{ version: 1, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    expect((await failure(call(grpc.clients.model, 'GetModelStatus', { model_spec: { name: 'mnist', version: { value: 9 } } }))).code).toBe(status.NOT_FOUND);
  });
});

describe('RPCs of the official services that this server does not implement', () => {
  it.each([
    ['prediction', 'Regress'],
    ['prediction', 'MultiInference'],
    ['model', 'HandleReloadConfigRequest'],
  ] as const)('%s %s answers UNIMPLEMENTED with the reason', async (client, method) => {
    const error = await failure(call(grpc.clients[client], method, {}));
    expect([error.code, error.details]).toEqual([status.UNIMPLEMENTED, expect.stringMatching(new RegExp(`^${method} is not implemented: .+`))]);
  });
});
