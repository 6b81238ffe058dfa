import Ajv, { type JSONSchemaType } from 'ajv';

/**
 * What `model-store/<name>/<version>/metadata.json` says about the weights beside it: the input
 * the model expects, how to bring an image to it, what its output means. The directory layout
 * gives the name and version; this file gives everything that belongs to those weights.
 */
export interface ModelMetadata {
  /** Input tensor without the batch axis, e.g. [28, 28, 1]. */
  input: { name: string; shape: number[]; dtype: 'float32' };
  /** `softmax`: one probability per label, summing to 1. */
  output: { name: string; kind: 'softmax' };
  /** One label per output unit, in output order. */
  labels: string[];
  /**
   * How an uploaded image becomes the input tensor. `mnist-digit`: grayscale, polarity fixed to a
   * light digit on black, cropped to the ink, fitted into 20x20, centred by mass in 28x28, 0..1.
   */
  preprocessing: { recipe: 'mnist-digit' };
  /** Free-form provenance: data source, split, accuracy, date, training time. */
  training?: Record<string, unknown>;
}

const schema: JSONSchemaType<ModelMetadata> = {
  type: 'object',
  required: ['input', 'output', 'labels', 'preprocessing'],
  properties: {
    input: {
      type: 'object',
      required: ['name', 'shape', 'dtype'],
      properties: {
        name: { type: 'string', minLength: 1 },
        shape: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 },
        dtype: { type: 'string', const: 'float32' },
      },
    },
    output: {
      type: 'object',
      required: ['name', 'kind'],
      properties: {
        name: { type: 'string', minLength: 1 },
        kind: { type: 'string', const: 'softmax' },
      },
    },
    labels: { type: 'array', items: { type: 'string' }, minItems: 1 },
    preprocessing: {
      type: 'object',
      required: ['recipe'],
      properties: { recipe: { type: 'string', const: 'mnist-digit' } },
    },
    training: { type: 'object', nullable: true, required: [] },
  },
};

const validate = new Ajv({ allErrors: true }).compile(schema);

/** Checks parsed JSON against the schema; the error names the file and every bad field. */
export function parseMetadata(json: unknown, file: string): ModelMetadata {
  if (validate(json)) return json;
  const problems = (validate.errors ?? [])
    .map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`)
    .join('; ');
  throw new Error(`${file}: ${problems}`);
}
