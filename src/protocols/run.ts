import type { ModelInput, Servable } from '../inference/servable';
import { checkFiniteOutputs } from './tensor';

/**
 * Runs checked inputs as one predict call (the version's queue and batching) and refuses
 * non-finite outputs with a 400; `where(i)` names example i in the message. Every protocol's
 * predict, classify and infer (REST and gRPC) ends here.
 */
export async function predictChecked(servable: Servable, inputs: readonly ModelInput[], where: (i: number) => string): Promise<Float32Array[]> {
  const rows = await servable.predict(inputs);
  checkFiniteOutputs(rows, where);
  return rows;
}
