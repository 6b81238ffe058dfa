/**
 * The contract every engine passes (as hono's routers share one suite): run from engines.test.ts
 * once per engine. An engine's model runs a batch of inputs in the metadata shape and answers
 * one row per input, the same row whatever else is in the batch.
 */
import type { EngineModel } from './engine';

export interface ContractSubject {
  model: EngineModel;
  inputShape: number[];
  /** Output values per input. */
  width: number;
}

function inputs(n: number, size: number, seed: number): Float32Array {
  const values = new Float32Array(n * size);
  let state = seed;
  for (let i = 0; i < values.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    values[i] = (state >>> 8) / 2 ** 24;
  }
  return values;
}

export function engineContract(title: string, load: () => Promise<ContractSubject>): void {
  describe(`engine contract: ${title}`, () => {
    let subject: ContractSubject;
    let size: number;
    beforeAll(async () => {
      subject = await load();
      size = subject.inputShape.reduce((a, b) => a * b, 1);
    });

    it('an empty batch answers no rows', async () => {
      expect(await subject.model.run(new Float32Array(0), 0)).toEqual([]);
    });

    it('a batch of n answers n rows of the output width, finite, each in a buffer of its own', async () => {
      const rows = await subject.model.run(inputs(3, size, 1), 3);
      expect(rows).toHaveLength(3);
      for (const row of rows) {
        expect(row).toBeInstanceOf(Float32Array);
        expect(row.length).toBe(subject.width);
        expect(row.every(Number.isFinite)).toBe(true);
        // Rows are transferred to the main thread one by one: each must own its whole buffer.
        expect(row.byteOffset === 0 && row.buffer.byteLength === row.byteLength).toBe(true);
      }
    });

    it('a row does not depend on its batch-mates or its place in the batch', async () => {
      const batch = inputs(4, size, 7);
      const together = await subject.model.run(batch, 4);
      for (let i = 0; i < 4; i++) {
        const [alone] = await subject.model.run(batch.slice(i * size, (i + 1) * size), 1);
        alone!.forEach((v, j) => expect(Math.abs(v - together[i]![j]!)).toBeLessThanOrEqual(1e-5));
      }
      // Different inputs give different rows: the engine does not answer a constant.
      expect(Array.from(together[0]!)).not.toEqual(Array.from(together[1]!));
    });

    it('the input buffer is not changed by a run', async () => {
      const batch = inputs(2, size, 3);
      const copy = batch.slice();
      await subject.model.run(batch, 2);
      expect(batch).toEqual(copy);
    });

    it('after dispose, a run fails instead of answering', async () => {
      const again = await load();
      again.model.dispose();
      await expect(again.model.run(inputs(1, size, 5), 1)).rejects.toThrow();
    });
  });
}
