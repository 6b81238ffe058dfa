/**
 * KServe's Open Inference Protocol v2 over gRPC (kserve/grpc_predict_v2.proto): liveness,
 * readiness, metadata and ModelInfer with typed contents or raw bytes, and the classification
 * extension; the same checks and inference path as REST's handlers/kserve.ts.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { BadRequest, ServiceUnavailable } from '../errors/errors';
import { inferModelMetadata, type InferOutputTensor, type InferRequest, runInfer, serverMetadata } from '../protocols/infer';
import { checkModelReady, isServerReady } from '../protocols/readiness';
import { type RpcContext, unary } from './call';

/** inference.InferParameter: one of three values. */
interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param';
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
}

interface InferTensorContents {
  fp32_contents: number[];
  bytes_contents: Buffer[];
}

interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: { name: string; datatype: string; shape: number[]; parameters: Record<string, InferParameter>; contents: InferTensorContents | null }[];
  outputs: { name: string; parameters: Record<string, InferParameter> }[];
  raw_input_contents: Buffer[];
}

interface ModelRef {
  name: string;
  version: string;
}

/** The protocol writes versions as strings; '' is "the newest available". */
function versionOf(version: string): number | undefined {
  if (version === '') return undefined;
  if (!/^[1-9]\d{0,15}$/.test(version)) throw new BadRequest(`model_version '${version.slice(0, 40)}' is not a version number.`);
  return Number(version);
}

function modelRef({ name, version }: ModelRef): { name: string; version?: number } {
  if (!name) throw new BadRequest('The model name is required.');
  return { name, version: versionOf(version) };
}

function parameterValue(p: InferParameter): unknown {
  return p.parameter_choice === undefined ? undefined : p[p.parameter_choice];
}

function parameters(map: Record<string, InferParameter>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map).map(([key, p]) => [key, parameterValue(p)]));
}

/** Little-endian FP32 bytes -> values (copied: the message's buffer need not be aligned). */
function fp32FromBytes(bytes: Buffer, where: string): Float32Array {
  if (bytes.length % 4 !== 0) throw new BadRequest(`${where}: ${bytes.length} bytes is not a whole number of FP32 values.`);
  return new Float32Array(new Uint8Array(bytes).buffer);
}

/**
 * ModelInferRequest -> the protocol's request as REST reads it, so both run one implementation
 * (src/protocols/infer.ts). Values arrive flat: raw_input_contents[i] for input i, else its
 * typed contents; giving both is an error, as the protocol says.
 */
export function toInferRequest(request: ModelInferRequest): InferRequest {
  const raw = request.raw_input_contents;
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw new BadRequest(`raw_input_contents has ${raw.length} entries for ${request.inputs.length} inputs; send one per input, or none.`);
  }
  return {
    ...(request.id ? { id: request.id } : {}),
    parameters: parameters(request.parameters),
    inputs: request.inputs.map((input, i) => {
      const where = `inputs[${i}] ('${input.name}')`;
      const typed = input.contents;
      const hasTyped = typed !== null && (typed.fp32_contents.length > 0 || typed.bytes_contents.length > 0);
      if (raw.length > 0 && hasTyped) throw new BadRequest(`${where}: both contents and raw_input_contents are set; send one.`);
      // Another datatype is refused by name when the request is read; its values are not needed for that.
      const data = input.datatype !== 'FP32' ? new Float32Array(0) : raw.length > 0 ? fp32FromBytes(raw[i]!, `raw_input_contents[${i}]`) : Float32Array.from(typed?.fp32_contents ?? []);
      return { name: input.name, datatype: input.datatype, shape: input.shape, parameters: parameters(input.parameters), data };
    }),
    outputs: request.outputs.map((output) => ({ name: output.name, parameters: parameters(output.parameters) as { classification?: number } })),
  };
}

/** BYTES elements in raw form: each a 4-byte little-endian length, then its bytes (Triton's layout). */
function rawBytes(values: readonly string[]): Buffer {
  return Buffer.concat(
    values.flatMap((value) => {
      const bytes = Buffer.from(value, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
}

/**
 * Output tensors in the form the request used: raw_output_contents when its inputs came raw (as
 * tritonclient and KServe's own server do), else typed contents.
 */
function toOutputs(outputs: InferOutputTensor[], raw: boolean) {
  const tensors = outputs.map(({ name, datatype, shape, data }) => ({
    name,
    datatype,
    shape,
    parameters: {},
    contents: raw ? null : datatype === 'FP32' ? { fp32_contents: data as number[] } : { bytes_contents: (data as string[]).map((s) => Buffer.from(s, 'utf8')) },
  }));
  const rawContents = raw
    ? outputs.map(({ datatype, data }) => (datatype === 'FP32' ? Buffer.from(Float32Array.from(data as number[]).buffer) : rawBytes(data as string[])))
    : [];
  return { outputs: tensors, raw_output_contents: rawContents };
}

export function inferenceService(context: RpcContext): UntypedServiceImplementation {
  const rpc = (method: string) => `/inference.GRPCInferenceService/${method}`;
  const { models } = context;
  return {
    ServerLive: unary(rpc('ServerLive'), context, async () => ({ live: true }), { open: true }),

    ServerReady: unary(rpc('ServerReady'), context, async () => ({ ready: isServerReady(models, context.lifecycle) }), { open: true }),

    ModelReady: unary(rpc('ModelReady'), context, async (request: ModelRef) => {
      const { name, version } = modelRef(request);
      try {
        checkModelReady(models, name, version);
        return { ready: true };
      } catch (e) {
        // Known but not servable (loading, failed): not ready. Unknown: NOT_FOUND.
        if (e instanceof ServiceUnavailable) return { ready: false };
        throw e;
      }
    }),

    ServerMetadata: unary(rpc('ServerMetadata'), context, async () => serverMetadata(context.serverVersion)),

    ModelMetadata: unary(rpc('ModelMetadata'), context, async (request: ModelRef) => models.withServable(modelRef(request), async (servable) => inferModelMetadata(models, servable))),

    ModelInfer: unary(rpc('ModelInfer'), context, async (request: ModelInferRequest) => {
      const ref = modelRef({ name: request.model_name, version: request.model_version });
      const inferRequest = toInferRequest(request);
      return models.withServable(ref, async (servable) => {
        const { outputs, ...rest } = await runInfer(servable, inferRequest, context.maxBatchInstances);
        return { ...rest, parameters: {}, ...toOutputs(outputs, request.raw_input_contents.length > 0) };
      });
    }),
  };
}
