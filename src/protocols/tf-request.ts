import { BadRequest } from '../errors/errors';

/** The only signature a served model has (TF Serving's default key). */
export const DEFAULT_SIGNATURE = 'serving_default';

/** The body of TF Serving's :predict (and, with `instances`/`examples`, of :classify). */
export interface TfRequestBody {
  signature_name?: string;
  instances?: unknown;
  inputs?: unknown;
  examples?: unknown;
}

/** Row format (`instances` -> `predictions`) or columnar (`inputs` -> `outputs`). */
export type Layout = 'row' | 'columnar';

/** A request's examples before they are read, with where they came from (for messages). */
export interface TfBatch {
  layout: Layout;
  items: unknown[];
  where: string;
}

/** TF Serving refuses an unknown signature with FAILED_PRECONDITION, which its REST layer answers 400. */
export function checkSignature(signatureName: string | undefined): void {
  if (signatureName === undefined || signatureName === '' || signatureName === DEFAULT_SIGNATURE) return;
  throw new BadRequest(`Serving signature key "${signatureName}" not found; this model has only "${DEFAULT_SIGNATURE}".`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The examples of a :predict body. Row format: `instances` is the list of examples. Columnar:
 * `inputs` is the batch tensor itself, or `{"<input name>": <batch>}`; either way its first axis
 * lists the examples, each read like a row (so `{"b64": ...}` works in both layouts).
 */
export function predictBatch(body: TfRequestBody, inputName: string): TfBatch {
  checkSignature(body.signature_name);
  const hasInstances = body.instances !== undefined;
  const hasInputs = body.inputs !== undefined;
  if (hasInstances === hasInputs) {
    throw new BadRequest(
      hasInstances
        ? 'The body has both "instances" (row format) and "inputs" (columnar format); send one of them.'
        : 'The body needs "instances" (row format) or "inputs" (columnar format).',
    );
  }
  if (hasInstances) return { layout: 'row', items: listOf(body.instances, 'instances'), where: 'instances' };
  const inputs = body.inputs;
  if (isPlainObject(inputs) && !('b64' in inputs)) {
    const keys = Object.keys(inputs);
    if (keys.length !== 1 || keys[0] !== inputName) {
      throw new BadRequest(`"inputs" names ${JSON.stringify(keys)}; this model has one input, '${inputName}'.`);
    }
    return { layout: 'columnar', items: listOf(inputs[inputName], `inputs.${inputName}`), where: `inputs.${inputName}` };
  }
  return { layout: 'columnar', items: listOf(inputs, 'inputs'), where: 'inputs' };
}

/**
 * The examples of a :classify body: TF Serving's `examples` (each `{"<input name>": value}`), or,
 * as this server also accepts, `instances` as in :predict. `context` (features shared by all
 * examples) has no use with single-input models and is refused by the document.
 */
export function classifyBatch(body: TfRequestBody): TfBatch {
  checkSignature(body.signature_name);
  const hasInstances = body.instances !== undefined;
  const hasExamples = body.examples !== undefined;
  if (hasInstances === hasExamples) {
    throw new BadRequest(
      hasInstances ? 'The body has both "instances" and "examples"; send one of them.' : 'The body needs "examples" or "instances".',
    );
  }
  return hasInstances
    ? { layout: 'row', items: listOf(body.instances, 'instances'), where: 'instances' }
    : { layout: 'row', items: listOf(body.examples, 'examples'), where: 'examples' };
}

function listOf(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new BadRequest(`"${where}" must be a list with one entry per example.`);
  if (value.length === 0) throw new BadRequest(`"${where}" is empty; send at least one example.`);
  return value;
}
