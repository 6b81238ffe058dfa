import { BadRequest } from '../errors/errors';
import { type ImageLimits, prepareInput } from '../images';
import type { ModelMetadata } from '../model-store/metadata';
import { decodeBase64 } from './b64';
import { parseExample } from './tensor';

/** What reading an example needs to know about the model. */
export type ExampleModel = Pick<ModelMetadata, 'input' | 'preprocessing'>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One example, in any form a TF Serving request carries it:
 * - a nested list of numbers shaped like the model input (or, for a single-channel input, without
 *   the channel axis: see `exampleShapes`);
 * - `{"b64": "<base64>"}`: encoded image bytes (PNG, JPEG, BMP, GIF, TIFF), brought to the input
 *   by the model's own preprocessing, as an upload to /models/{name}/classify would be;
 * - `{"<input name>": <either of the above>}`: the named-input form of rows and of tf.Examples.
 */
export async function readExample(value: unknown, model: ExampleModel, limits: ImageLimits, where: string): Promise<Float32Array> {
  return readValue(value, model, limits, where, true);
}

async function readValue(value: unknown, model: ExampleModel, limits: ImageLimits, where: string, mayBeNamed: boolean): Promise<Float32Array> {
  if (!isPlainObject(value)) return parseExample(value, model.input.shape, where);
  const keys = Object.keys(value);
  if (keys.includes('b64')) {
    if (keys.length !== 1 || typeof value.b64 !== 'string') {
      throw new BadRequest(`${where}: a binary value must be {"b64": "<base64 string>"} and nothing else.`);
    }
    return prepareInput(decodeBase64(value.b64, where), model, limits);
  }
  const inputName = model.input.name;
  if (mayBeNamed && keys.length === 1 && keys[0] === inputName) {
    return readValue(value[inputName], model, limits, `${where}.${inputName}`, false);
  }
  throw new BadRequest(
    `${where}: expected a nested list of numbers${mayBeNamed ? `, {"b64": ...} or {"${inputName}": ...}` : ' or {"b64": ...}'}; ` +
      `got an object with keys ${JSON.stringify(keys)}. This model has one input, '${inputName}'.`,
  );
}

/** Every example of a batch, in order (one at a time: image decoding is the costly part). */
export async function readExamples(items: readonly unknown[], model: ExampleModel, limits: ImageLimits, where: string): Promise<Float32Array[]> {
  const inputs: Float32Array[] = [];
  for (const [i, item] of items.entries()) inputs.push(await readExample(item, model, limits, `${where}[${i}]`));
  return inputs;
}
