/**
 * Hostile gRPC messages against the real gRPC server on the real service: random bytes as the
 * serialized message of every RPC, and structured mutations of valid TF Serving PredictRequests,
 * Classify requests and KServe ModelInferRequests (wrong dtypes and datatypes, shapes huge,
 * negative or short, contents of any length, NaN bytes, random image bytes, parameters of every
 * kind). Every answer must be OK or a client-error status with a plain message: never INTERNAL or
 * UNKNOWN, never a stack frame or a server path, and the server keeps answering.
 */
import { type Client, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { call, useGrpcServer } from '../support/grpc';
import { useTestService } from '../support/service';
import { fuzzParams, propertyTimeout, SEVEN, trace } from './support';

const service = useTestService({ maxBatchInstances: 64 });
const grpc = useGrpcServer(() => service);

/** What hostile input may get: an answer, or a refusal that blames the input (or the model's absence). */
const ACCEPTABLE = new Set([status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND, status.RESOURCE_EXHAUSTED, status.UNIMPLEMENTED]);

function checkOutcome(error: ServiceError | null, request: string): void {
  if (!error) return;
  if (!ACCEPTABLE.has(error.code)) throw new Error(`${request}: answered ${status[error.code]}: ${error.details}`);
  if (/\n\s+at |\/work\/|node_modules|\.ts:\d+/.test(error.details)) throw new Error(`${request}: the message leaks internals: ${error.details}`);
}

/** Sends `bytes` as the already-serialized message of `method` (`/package.Service/Method`). */
function rawCall(client: Client, method: string, bytes: Buffer): Promise<ServiceError | null> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(method, (b: Buffer) => b, (b: Buffer) => b, bytes, new Metadata(), { deadline: Date.now() + 20_000 }, (error) => resolve(error));
  });
}

async function outcome(promise: Promise<unknown>): Promise<ServiceError | null> {
  try {
    await promise;
    return null;
  } catch (e) {
    return e as ServiceError;
  }
}

const METHODS = [
  ['prediction', '/tensorflow.serving.PredictionService/Predict'],
  ['prediction', '/tensorflow.serving.PredictionService/Classify'],
  ['prediction', '/tensorflow.serving.PredictionService/GetModelMetadata'],
  ['model', '/tensorflow.serving.ModelService/GetModelStatus'],
  ['inference', '/inference.GRPCInferenceService/ModelInfer'],
  ['inference', '/inference.GRPCInferenceService/ModelReady'],
  ['inference', '/inference.GRPCInferenceService/ModelMetadata'],
  ['health', '/grpc.health.v1.Health/Check'],
] as const;

it(
  'random bytes as any RPC’s message: a client-error status, never INTERNAL',
  async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), fc.uint8Array({ maxLength: 512 }), async ([client, method], bytes) => {
        trace(`gRPC ${method} ${bytes.length} random bytes`);
        checkOutcome(await rawCall(grpc.clients[client], method, Buffer.from(bytes)), `${method} with ${Buffer.from(bytes).toString('hex').slice(0, 120)}`);
      }),
      fuzzParams(300),
    );
  },
  propertyTimeout(60_000),
);

// ---- structured mutations -------------------------------------------------------------------

const modelNameArb = fc.oneof(fc.constantFrom('mnist', 'fashion', 'mnist-multilabel', 'imagenet'), fc.string({ maxLength: 12 }));
const dimArb = fc.oneof(fc.constantFrom(-1, 0, 1, 2, 27, 28, 784, 1000, 2 ** 31, 2 ** 52), fc.integer({ min: -5, max: 64 }));
const shapeArb = fc.oneof(fc.constant([1, 28, 28, 1]), fc.constant([2, 28, 28]), fc.array(dimArb, { maxLength: 6 }));
const floatArb = fc.oneof(fc.float({ noDefaultInfinity: false }), fc.constantFrom(0, 1, NaN, Infinity, -Infinity, 3.4e38));
const bytesArb = fc.oneof(fc.uint8Array({ maxLength: 4000 }).map((b) => Buffer.from(b)), fc.constant(SEVEN), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([SEVEN.subarray(0, 40), Buffer.from(b)])));
const floatsArb = fc.oneof(fc.array(floatArb, { maxLength: 40 }), fc.integer({ min: 0, max: 2000 }).map((n) => new Array<number>(n).fill(0.5)));

const tensorProtoArb = fc.record(
  {
    dtype: fc.constantFrom('DT_FLOAT', 'DT_DOUBLE', 'DT_STRING', 'DT_INT32', 'DT_HALF', 'DT_INVALID'),
    tensor_shape: fc.record({ dim: shapeArb.map((dims) => dims.map((size) => ({ size }))), unknown_rank: fc.boolean() }, { requiredKeys: ['dim'] }),
    float_val: floatsArb,
    double_val: fc.array(fc.double(), { maxLength: 10 }),
    tensor_content: fc.oneof(bytesArb, fc.constant(Buffer.from(new Float32Array(784).fill(0.25).buffer))),
    string_val: fc.array(bytesArb, { maxLength: 3 }),
  },
  { requiredKeys: ['dtype'] },
);

const modelSpecArb = fc.record(
  { name: modelNameArb, version: fc.record({ value: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(2 ** 40)) }), version_label: fc.string({ maxLength: 8 }), signature_name: fc.constantFrom('', 'serving_default', 'predict_images') },
  { requiredKeys: ['name'] },
);

it(
  'mutated PredictRequests',
  async () => {
    await fc.assert(
      fc.asyncProperty(modelSpecArb, fc.dictionary(fc.constantFrom('image', 'pixels', ''), tensorProtoArb, { maxKeys: 2 }), fc.array(fc.constantFrom('probs', 'logits'), { maxLength: 2 }), async (model_spec, inputs, output_filter) => {
        const request = { model_spec, inputs, output_filter };
        trace(`gRPC Predict ${JSON.stringify(request).slice(0, 300)}`);
        checkOutcome(await outcome(call(grpc.clients.prediction, 'Predict', request)), `Predict ${JSON.stringify(request).slice(0, 300)}`);
      }),
      fuzzParams(150),
    );
  },
  propertyTimeout(90_000),
);

const featureArb = fc.oneof(
  fc.record({ bytes_list: fc.record({ value: fc.array(bytesArb, { maxLength: 2 }) }) }),
  fc.record({ float_list: fc.record({ value: floatsArb }) }),
  fc.record({ int64_list: fc.record({ value: fc.array(fc.integer(), { maxLength: 5 }) }) }),
  fc.constant({}),
);
const exampleArb = fc.record({ features: fc.record({ feature: fc.dictionary(fc.constantFrom('image', 'x'), featureArb, { maxKeys: 2 }) }) });

it(
  'mutated Classify requests (tf.Examples)',
  async () => {
    await fc.assert(
      fc.asyncProperty(
        modelSpecArb,
        fc.oneof(
          fc.record({ example_list: fc.record({ examples: fc.array(exampleArb, { maxLength: 3 }) }) }),
          fc.record({ example_list_with_context: fc.record({ examples: fc.array(exampleArb, { maxLength: 3 }), context: exampleArb }) }),
          fc.constant({}),
        ),
        async (model_spec, input) => {
          const request = { model_spec, input };
          checkOutcome(await outcome(call(grpc.clients.prediction, 'Classify', request)), `Classify ${JSON.stringify(request).slice(0, 300)}`);
        },
      ),
      fuzzParams(100),
    );
  },
  propertyTimeout(90_000),
);

const parameterArb = fc.oneof(fc.record({ int64_param: fc.oneof(fc.integer({ min: -2, max: 12 }), fc.constant(2 ** 40)) }), fc.record({ string_param: fc.string({ maxLength: 5 }) }), fc.record({ bool_param: fc.boolean() }), fc.constant({}));

it(
  'mutated ModelInferRequests (typed and raw contents, parameters)',
  async () => {
    const inputArb = fc.record(
      {
        name: fc.constantFrom('image', 'x'),
        datatype: fc.constantFrom('FP32', 'FP64', 'INT32', 'BYTES', 'fp32', ''),
        shape: shapeArb,
        parameters: fc.dictionary(fc.string({ maxLength: 6 }), parameterArb, { maxKeys: 2 }),
        contents: fc.record({ fp32_contents: floatsArb, bytes_contents: fc.array(bytesArb, { maxLength: 2 }) }, { requiredKeys: [] }),
      },
      { requiredKeys: ['name', 'datatype', 'shape'] },
    );
    await fc.assert(
      fc.asyncProperty(
        modelNameArb,
        fc.oneof(fc.constant(''), fc.constant('1'), fc.string({ maxLength: 20 })),
        fc.array(inputArb, { maxLength: 2 }),
        fc.array(fc.record({ name: fc.constantFrom('probs', 'x'), parameters: fc.dictionary(fc.constantFrom('classification', 'binary_data'), parameterArb, { maxKeys: 2 }) }), { maxLength: 2 }),
        fc.array(fc.oneof(bytesArb, fc.constant(Buffer.from(new Float32Array(784).fill(NaN).buffer)), fc.constant(Buffer.from(new Float32Array(784).fill(0.5).buffer))), { maxLength: 2 }),
        async (model_name, model_version, inputs, outputs, raw_input_contents) => {
          const request = { model_name, model_version, inputs, outputs, raw_input_contents };
          checkOutcome(await outcome(call(grpc.clients.inference, 'ModelInfer', request)), `ModelInfer ${JSON.stringify(request).slice(0, 300)}`);
        },
      ),
      fuzzParams(200),
    );
    // Still serving after all of it.
    expect(await call(grpc.clients.inference, 'ServerReady', {})).toEqual({ ready: true });
  },
  propertyTimeout(90_000),
);
