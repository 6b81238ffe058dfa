import { status } from '@grpc/grpc-js';
import { DEFAULT_IMAGE_LIMITS, decodeToGray } from '../../src/images';
import { captureLogs } from '../support/log-capture';
import { call, failure, useGrpcServer } from '../support/grpc';
import { fixture, useTestService } from '../support/service';

const logs = captureLogs('debug');

async function digitPixels(digit: number): Promise<Float32Array> {
  const { data } = await decodeToGray(fixture('mnist', `${digit}.png`), DEFAULT_IMAGE_LIMITS);
  return Float32Array.from(data);
}

const argmax = (row: ArrayLike<number>): number => Array.from(row).indexOf(Math.max(...Array.from(row)));

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[]; contents: { fp32_contents: number[]; bytes_contents: Buffer[] } | null }[];
  raw_output_contents: Buffer[];
}

const service = useTestService();
const grpc = useGrpcServer(() => service);
const v2 = (method: string, request: object = {}) => call(grpc.clients.inference, method, request);
const infer = (request: object) => call<InferResponse>(grpc.clients.inference, 'ModelInfer', request);

describe('GRPCInferenceService: health and metadata', () => {
  it('ServerLive, ServerReady and ModelReady', async () => {
    expect(await v2('ServerLive')).toEqual({ live: true });
    expect(await v2('ServerReady')).toEqual({ ready: true });
    expect(await v2('ModelReady', { name: 'mnist', version: '' })).toEqual({ ready: true });
    expect(await v2('ModelReady', { name: 'mnist', version: '1' })).toEqual({ ready: true });
    expect((await failure(v2('ModelReady', { name: 'letters' }))).code).toBe(status.NOT_FOUND);
    expect((await failure(v2('ModelReady', { name: 'mnist', version: 'one' }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('ServerMetadata names the server, its version and the classification extension', async () => {
    expect(await v2('ServerMetadata')).toEqual({ name: 'specserve', version: expect.stringMatching(/^\d+\.\d+/), extensions: ['classification'] });
  });

  it('ModelMetadata describes the FP32 input and output, batch first', async () => {
    expect(await v2('ModelMetadata', { name: 'mnist' })).toEqual({
      name: 'mnist',
      versions: ['1'],
      platform: 'onnxruntime_onnx', // the shipped mnist serves on ONNX Runtime (converted from its TF.js files)
      inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 28, 28, 1] }],
      outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }],
    });
    expect((await failure(v2('ModelMetadata', { name: 'mnist', version: '3' }))).code).toBe(status.NOT_FOUND);
  });
});

describe('GRPCInferenceService/ModelInfer', () => {
  it('reads raw_input_contents and answers raw_output_contents (as tritonclient does)', async () => {
    const [one, eight] = await Promise.all([digitPixels(1), digitPixels(8)]);
    const res = await infer({
      model_name: 'mnist',
      id: 'req-1',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [2, 28, 28, 1] }],
      raw_input_contents: [Buffer.concat([Buffer.from(one.buffer), Buffer.from(eight.buffer)])],
    });
    expect(res).toMatchObject({ model_name: 'mnist', model_version: '1', id: 'req-1' });
    expect(res.outputs).toEqual([{ name: 'probs', datatype: 'FP32', shape: [2, 10], parameters: {}, contents: null }]);
    const raw = res.raw_output_contents[0]!;
    const scores = new Float32Array(new Uint8Array(raw).buffer);
    expect([argmax(scores.subarray(0, 10)), argmax(scores.subarray(10))]).toEqual([1, 8]);
  });

  it('reads typed fp32_contents and answers typed contents; a generated id when none is sent', async () => {
    const res = await infer({ model_name: 'mnist', model_version: '1', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28], contents: { fp32_contents: Array.from(await digitPixels(0)) } }] });
    expect(res.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.raw_output_contents).toEqual([]);
    expect(argmax(res.outputs[0]!.contents!.fp32_contents)).toBe(0);
  });

  it('answers the classification parameter with "score:index:label" BYTES, raw or typed', async () => {
    const pixels = Buffer.from((await digitPixels(3)).buffer);
    const outputs = [{ name: 'probs', parameters: { classification: { int64_param: 2 } } }];
    const raw = await infer({ model_name: 'mnist', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28, 1] }], outputs, raw_input_contents: [pixels] });
    expect(raw.outputs[0]).toMatchObject({ datatype: 'BYTES', shape: [1, 2] });
    const bytes = raw.raw_output_contents[0]!;
    const first = bytes.subarray(4, 4 + bytes.readUInt32LE(0)).toString();
    expect(first).toMatch(/^0\.\d+:3:3$|^1:3:3$/);
    const typed = await infer({ model_name: 'mnist', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 784 / 28, 28], contents: { fp32_contents: Array.from(new Float32Array(pixels.buffer, pixels.byteOffset, 784)) } }], outputs });
    expect(typed.outputs[0]!.contents!.bytes_contents.map(String)[0]).toBe(first);
  });

  const blank = { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28] }], raw_input_contents: [Buffer.alloc(784 * 4)] };
  it.each([
    ['an INT32 input', { inputs: [{ name: 'image', datatype: 'INT32', shape: [1, 28, 28] }] }, /datatype INT32 is not supported/],
    ['another input name', { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 28, 28] }] }, /unknown input; this model's input is 'image'/],
    ['raw bytes of the wrong length', { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28] }], raw_input_contents: [Buffer.alloc(12)] }, /needs 784 values; data holds 3/],
    ['raw bytes not a whole FP32 count', { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28] }], raw_input_contents: [Buffer.alloc(7)] }, /not a whole number of FP32 values/],
    ['raw NaN', { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28] }], raw_input_contents: [Buffer.from(new Float32Array(784).fill(NaN).buffer)] }, /expected a finite number/],
    ['contents and raw together', { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 1], contents: { fp32_contents: [1] } }], raw_input_contents: [Buffer.alloc(4)] }, /both contents and raw_input_contents/],
    ['raw entries not one per input', { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28] }], raw_input_contents: [Buffer.alloc(4), Buffer.alloc(4)] }, /2 entries for 1 inputs/],
    ['an unknown output', { ...blank, outputs: [{ name: 'logits' }] }, /unknown output 'logits'/],
    ['a classification beyond the labels', { ...blank, outputs: [{ name: 'probs', parameters: { classification: { int64_param: 11 } } }] }, /from 1 to 10/],
    ['a batch over MAX_BATCH_INSTANCES', { inputs: [{ name: 'image', datatype: 'FP32', shape: [1001, 28, 28] }] }, /1001 instances; at most 1000/],
  ])('answers %s with INVALID_ARGUMENT', async (_what, request, message) => {
    const error = await failure(infer({ model_name: 'mnist', ...request }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(message);
  });

  it('answers an unknown model with NOT_FOUND', async () => {
    expect((await failure(infer({ model_name: 'letters', inputs: [] }))).code).toBe(status.NOT_FOUND);
  });

  it('logs one line per RPC with its code, model and version, under the client’s x-request-id', async () => {
    await infer({ model_name: 'mnist', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28] }], raw_input_contents: [Buffer.alloc(784 * 4)] });
    await call(grpc.clients.inference, 'ModelInfer', { model_name: 'letters' }, { metadata: { 'x-request-id': 'grpc-log-1' } }).catch(() => undefined);
    const [line] = await logs.find((l) => l.reqId === 'grpc-log-1' && l.msg === 'rpc completed');
    expect(line).toMatchObject({ rpc: '/inference.GRPCInferenceService/ModelInfer', code: 'NOT_FOUND', level: 'info', detail: expect.stringMatching(/letters/) });
    const ok = await logs.find((l) => l.rpc === '/inference.GRPCInferenceService/ModelInfer' && l.code === 'OK');
    expect(ok[0]).toMatchObject({ model: 'mnist', version: 1, durationMs: expect.any(Number) });
  });

  it('counts RPCs in /metrics by method and code', async () => {
    const text = (await service.request.get('/metrics')).text;
    expect(text).toMatch(/specserve_grpc_request_duration_seconds_count\{method="\/inference.GRPCInferenceService\/ModelInfer",code="OK"\} [1-9]/);
    expect(text).toMatch(/specserve_grpc_request_duration_seconds_count\{method="\/inference.GRPCInferenceService\/ModelInfer",code="INVALID_ARGUMENT"\} [1-9]/);
  });
});

describe('grpc.health.v1.Health', () => {
  it('Check answers SERVING for the server and each service, NOT_FOUND for another', async () => {
    expect(await call(grpc.clients.health, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
    expect(await call(grpc.clients.health, 'Check', { service: 'inference.GRPCInferenceService' })).toEqual({ status: 'SERVING' });
    expect((await failure(call(grpc.clients.health, 'Check', { service: 'nope' }))).code).toBe(status.NOT_FOUND);
  });

  it('Watch streams the current status', async () => {
    const stream = (grpc.clients.health as unknown as { Watch(req: object): NodeJS.ReadableStream & { cancel(): void } }).Watch({ service: '' });
    const first = await new Promise((resolve) => stream.once('data', resolve));
    stream.on('error', () => undefined); // the cancel below ends it with CANCELLED
    stream.cancel();
    expect(first).toEqual({ status: 'SERVING' });
  });
});
