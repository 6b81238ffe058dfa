import { BadRequest } from '../errors/errors';
import type { ModelInput } from '../inference/servable';
import type { ModelMetadata } from '../model-store/metadata';
import { decodeBase64 } from './b64';
import { parseExample } from './tensor';

/** What reading an example needs to know about the model. */
export type ExampleModel = Pick<ModelMetadata, 'input'>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One example, in any form a TF Serving request carries it:
 * - a nested list of numbers shaped like the model input (or, for a single-channel input, without
 *   the channel axis: see `exampleShapes`);
 * - `{"b64": "<base64>"}`: encoded image bytes (any accepted format), to be brought to the
 *   input by the model's own preprocessing (where the model runs), as an upload would be;
 * - `{"<input name>": <either of the above>}`: the named-input form of rows and of tf.Examples.
 */
export function readExample(value: unknown, model: ExampleModel, where: string): ModelInput {
  return readValue(value, model, where, true);
}

function readValue(value: unknown, model: ExampleModel, where: string, mayBeNamed: boolean): ModelInput {
  if (!isPlainObject(value)) return { tensor: parseExample(value, model.input.shape, where) };
  const keys = Object.keys(value);
  if (keys.includes('b64')) {
    if (keys.length !== 1 || typeof value.b64 !== 'string') {
      throw new BadRequest(`${where}: a binary value must be {"b64": "<base64 string>"} and nothing else.`);
    }
    return { image: decodeBase64(value.b64, where) };
  }
  const inputName = model.input.name;
  if (mayBeNamed && keys.length === 1 && keys[0] === inputName) {
    return readValue(value[inputName], model, `${where}.${inputName}`, false);
  }
  throw new BadRequest(
    `${where}: expected a nested list of numbers${mayBeNamed ? `, {"b64": ...} or {"${inputName}": ...}` : ' or {"b64": ...}'}; ` +
      `got an object with keys ${JSON.stringify(keys)}. This model has one input, '${inputName}'.`,
  );
}

/** Every example of a batch, in order. */
export function readExamples(items: readonly unknown[], model: ExampleModel, where: string): ModelInput[] {
  return items.map((item, i) => readExample(item, model, `${where}[${i}]`));
}
