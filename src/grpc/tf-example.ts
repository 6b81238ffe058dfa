import { BadRequest } from '../errors/errors';
import type { ModelInput } from '../inference/servable';
import type { ModelMetadata } from '../model-store/metadata';
import { checkBatchSize } from '../protocols/limits';
import { toFiniteFloat32 } from '../protocols/tensor';

/** tensorflow.Feature: one of three lists. */
interface Feature {
  kind?: 'bytes_list' | 'float_list' | 'int64_list';
  bytes_list?: { value: Buffer[] } | null;
  float_list?: { value: number[] } | null;
  int64_list?: { value: number[] } | null;
}

export interface ExampleProto {
  features: { feature: Record<string, Feature> } | null;
}

/** tensorflow.serving.Input: the examples of a Classify request. */
export interface InputProto {
  kind?: 'example_list' | 'example_list_with_context';
  example_list?: { examples: ExampleProto[] } | null;
  example_list_with_context?: { examples: ExampleProto[]; context: ExampleProto | null } | null;
}

/**
 * One tf.Example -> a model input: the feature named like the model's input holds either the
 * encoded image (bytes_list with one value, preprocessed where the model runs) or the input's
 * values flattened row-major (float_list).
 */
function readExample(example: ExampleProto, context: ExampleProto | null, model: Pick<ModelMetadata, 'input'>, where: string): ModelInput {
  const { name, shape } = model.input;
  const feature = example.features?.feature[name] ?? context?.features?.feature[name];
  if (!feature) {
    const names = Object.keys(example.features?.feature ?? {});
    throw new BadRequest(`${where}: no feature '${name}' (the model's input); the example has ${names.length ? names.map((n) => `'${n}'`).join(', ') : 'none'}.`);
  }
  if (feature.kind === 'bytes_list') {
    const values = feature.bytes_list?.value ?? [];
    if (values.length !== 1 || values[0]!.length === 0) throw new BadRequest(`${where}.${name}: a bytes_list feature holds one encoded image; it has ${values.length} values.`);
    return { image: values[0]! };
  }
  if (feature.kind === 'float_list') {
    const values = feature.float_list?.value ?? [];
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new BadRequest(`${where}.${name}: the input [${shape.join(', ')}] needs ${size} floats; float_list holds ${values.length}.`);
    return { tensor: toFiniteFloat32(values, `${where}.${name}.float_list`) };
  }
  throw new BadRequest(`${where}.${name}: expected a bytes_list (an encoded image) or a float_list (the input's values); got ${feature.kind ?? 'an empty feature'}.`);
}

/** The examples of a Classify request's Input, after the batch limit; context features fill what an example leaves out. */
export function readInputExamples(input: InputProto | null, model: Pick<ModelMetadata, 'input'>, maxBatch: number): ModelInput[] {
  const list = input?.kind === 'example_list_with_context' ? input.example_list_with_context : input?.example_list;
  const where = input?.kind === 'example_list_with_context' ? 'input.example_list_with_context.examples' : 'input.example_list.examples';
  const examples = list?.examples ?? [];
  if (examples.length === 0) throw new BadRequest(`${where} is empty; send at least one tf.Example.`);
  checkBatchSize(examples.length, maxBatch);
  const context = input?.kind === 'example_list_with_context' ? (input.example_list_with_context?.context ?? null) : null;
  return examples.map((example, i) => readExample(example, context, model, `${where}[${i}]`));
}
