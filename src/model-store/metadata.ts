import Ajv, { type JSONSchemaType } from 'ajv';

/**
 * What `model-store/<name>/<version>/metadata.json` says about the weights beside it: the input
 * the model expects, how to bring an image to it, what its output means. The directory layout
 * gives the name and version; this file gives everything that belongs to those weights.
 */
export interface ModelMetadata {
  /** Input tensor without the batch axis, e.g. [28, 28, 1]. */
  input: { name: string; shape: number[]; dtype: 'float32'; layout?: InputLayout };
  /** What the output units mean; see `OutputKind`. */
  output: ModelOutput;
  /** One label per output unit, in output order (`binary-sigmoid`: [negative, positive]). */
  labels: string[];
  /** How an uploaded image becomes the input tensor. */
  preprocessing: Preprocessing;
  /** Free-form provenance: data source, split, accuracy, date, training time. */
  training?: Record<string, unknown>;
}

/**
 * How an ONNX graph's input is laid out: `NHWC` (TF.js, Keras, TFLite) or `NCHW` (PyTorch).
 * `input.shape` is always [height, width, channels] (what images become and what tensor requests
 * send); the engine reorders for an NCHW graph. Read from the graph when not stated.
 */
export type InputLayout = 'NHWC' | 'NCHW';

/**
 * `softmax`: one probability per label, summing to 1 (single-label: rank and take the top).
 * `sigmoid`: one independent probability per label (multi-label: every label at or above its
 * threshold applies). `binary-sigmoid`: a single unit p = P(labels[1]); labels[0] gets 1 - p
 * (a cats-vs-dogs model with one sigmoid unit). `logits`: one raw score per label (a PyTorch
 * classifier without its softmax): ranked through a softmax, raw on the tensor protocols.
 */
export type OutputKind = 'softmax' | 'sigmoid' | 'binary-sigmoid' | 'logits';

export interface ModelOutput {
  name: string;
  kind: OutputKind;
  /** `sigmoid` only: the score at which a label applies, one for all labels or one per label. Default 0.5. */
  threshold?: number | number[];
}

/** How many units the model's output row has: one per label, except `binary-sigmoid` (one). */
export function outputUnits({ output, labels }: Pick<ModelMetadata, 'output' | 'labels'>): number {
  return output.kind === 'binary-sigmoid' ? 1 : labels.length;
}

/**
 * `mnist-digit`: grayscale, polarity fixed to a light digit on black, cropped to the ink, fitted
 * into 20x20, centred by mass in 28x28, 0..1.
 * `resize`: the whole image brought to the input's height x width (channels from the input shape:
 * 1 grayscale, 3 RGB) by `resize` (stretch; centre-crop after fitting the short side; letterbox
 * on black), scaled by `scale`; `invert: auto` turns a light background dark first (for models
 * trained on light-on-dark images such as Fashion-MNIST). Scales, as Keras' `preprocess_input`
 * modes: `unit` x/255 (0..1); `symmetric` x/127.5 - 1 (-1..1, "tf" mode: MobileNet, Inception);
 * `raw` 0..255 (models with a Rescaling layer inside); `caffe` channels reordered to BGR and
 * the ImageNet BGR means subtracted, no scaling (Keras ResNet50, VGG16).
 */
export type Scale = 'unit' | 'symmetric' | 'raw' | 'caffe';

/**
 * Per-channel normalisation after scaling, (x - mean) / std: `imagenet` is torchvision's preset
 * (mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225], on `unit`-scaled RGB), or any values,
 * one per channel.
 */
export type Normalize = 'imagenet' | { mean: number[]; std: number[] };

export const IMAGENET_NORMALIZE = Object.freeze({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });

export type Preprocessing =
  | { recipe: 'mnist-digit' }
  | { recipe: 'resize'; resize: 'stretch' | 'center-crop' | 'letterbox'; scale: Scale; invert: 'never' | 'auto'; normalize?: Normalize };

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
        layout: { type: 'string', enum: ['NHWC', 'NCHW'], nullable: true },
      },
    },
    output: {
      type: 'object',
      required: ['name', 'kind'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        kind: { type: 'string', enum: ['softmax', 'sigmoid', 'binary-sigmoid', 'logits'] },
        threshold: {
          oneOf: [
            { type: 'number', minimum: 0, maximum: 1 },
            { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 1 },
          ],
        },
      },
    } as unknown as JSONSchemaType<ModelMetadata>['properties']['output'],
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
            scale: { type: 'string', enum: ['unit', 'symmetric', 'raw', 'caffe'] },
            invert: { type: 'string', enum: ['never', 'auto'] },
            normalize: {
              oneOf: [
                { type: 'string', const: 'imagenet' },
                {
                  type: 'object',
                  required: ['mean', 'std'],
                  additionalProperties: false,
                  properties: {
                    mean: { type: 'array', items: { type: 'number' }, minItems: 1 },
                    std: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1 },
                  },
                },
              ],
            },
          },
        },
      ],
    } as unknown as JSONSchemaType<ModelMetadata>['properties']['preprocessing'],
    training: { type: 'object', nullable: true, required: [] },
  },
};

const validate = new Ajv({ allErrors: true }).compile(schema);

/** What the schema cannot say: fields that must agree with each other. */
function crossFieldProblems({ input, output, labels, preprocessing }: ModelMetadata): string[] {
  const problems: string[] = [];
  const channels = input.shape[2];
  if (output.kind === 'binary-sigmoid' && labels.length !== 2) {
    problems.push(`/labels has ${labels.length} entries; output.kind binary-sigmoid needs two: [negative, positive]`);
  }
  if (output.threshold !== undefined && output.kind !== 'sigmoid') problems.push(`/output/threshold applies to output.kind sigmoid only`);
  if (Array.isArray(output.threshold) && output.threshold.length !== labels.length) {
    problems.push(`/output/threshold has ${output.threshold.length} entries for ${labels.length} labels`);
  }
  if (preprocessing.recipe === 'mnist-digit' && input.shape.join(',') !== '28,28,1') {
    problems.push(`/input/shape is [${input.shape}]; the mnist-digit recipe makes [28, 28, 1]`);
  }
  if (preprocessing.recipe === 'resize') {
    if (input.shape.length !== 3 || (channels !== 1 && channels !== 3)) {
      problems.push(`/input/shape is [${input.shape}]; the resize recipe needs [height, width, 1 or 3]`);
    } else if (preprocessing.scale === 'caffe' && channels !== 3) {
      problems.push(`/preprocessing/scale caffe needs 3 channels (BGR), input has ${channels}`);
    }
    const normalize = preprocessing.normalize === 'imagenet' ? IMAGENET_NORMALIZE : preprocessing.normalize;
    if (normalize && (normalize.mean.length !== channels || normalize.std.length !== channels)) {
      problems.push(`/preprocessing/normalize needs one mean and one std per channel (${channels}), got ${normalize.mean.length} and ${normalize.std.length}`);
    }
  }
  return problems;
}

/** Checks parsed JSON against the schema; the error names the file and every bad field. */
export function parseMetadata(json: unknown, file: string): ModelMetadata {
  if (!validate(json)) {
    const problems = (validate.errors ?? []).map((e) => {
      // Ajv's enum message does not say what is allowed; the person editing the file needs that.
      const allowed = e.keyword === 'enum' ? (e.params as { allowedValues: unknown[] }).allowedValues : undefined;
      const message = allowed ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` : (e.message ?? 'is invalid');
      return `${e.instancePath || '(root)'} ${message}`;
    });
    throw new Error(`${file}: ${problems.join('; ')}`);
  }
  const problems = crossFieldProblems(json);
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
  return json;
}

/** The threshold of each label of a `sigmoid` model, in label order. */
export function labelThresholds({ output, labels }: Pick<ModelMetadata, 'output' | 'labels'>): number[] {
  const { threshold = 0.5 } = output;
  return Array.isArray(threshold) ? threshold : labels.map(() => threshold);
}
