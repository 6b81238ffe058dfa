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
  /** How an uploaded image becomes the input tensor. */
  preprocessing: Preprocessing;
  /** Free-form provenance: data source, split, accuracy, date, training time. */
  training?: Record<string, unknown>;
}

/**
 * `mnist-digit`: grayscale, polarity fixed to a light digit on black, cropped to the ink, fitted
 * into 20x20, centred by mass in 28x28, 0..1.
 * `resize`: the whole image brought to the input's height x width (channels from the input shape:
 * 1 grayscale, 3 RGB) by `resize` (stretch; centre-crop after fitting the short side; letterbox
 * on black), scaled by `scale` (unit 0..1, symmetric -1..1); `invert: auto` turns a light
 * background dark first (for models trained on light-on-dark images such as Fashion-MNIST).
 */
export type Preprocessing =
  | { recipe: 'mnist-digit' }
  | { recipe: 'resize'; resize: 'stretch' | 'center-crop' | 'letterbox'; scale: 'unit' | 'symmetric'; invert: 'never' | 'auto' };

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
      oneOf: [
        {
          type: 'object',
          required: ['recipe'],
          additionalProperties: false,
          properties: { recipe: { type: 'string', const: 'mnist-digit' } },
        },
        {
          type: 'object',
          required: ['recipe', 'resize', 'scale', 'invert'],
          additionalProperties: false,
          properties: {
            recipe: { type: 'string', const: 'resize' },
            resize: { type: 'string', enum: ['stretch', 'center-crop', 'letterbox'] },
            scale: { type: 'string', enum: ['unit', 'symmetric'] },
            invert: { type: 'string', enum: ['never', 'auto'] },
          },
        },
      ],
    } as unknown as JSONSchemaType<ModelMetadata>['properties']['preprocessing'],
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
