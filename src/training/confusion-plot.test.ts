import sharp from 'sharp';
import { confusionMatrixPng, confusionTable } from './confusion-plot';
import type { MultiLabelReport, SingleLabelReport } from './evaluation';

/** The confusion-matrix.png `specserve train` writes beside MODEL_CARD.md. */

const single: SingleLabelReport = {
  task: 'single',
  examples: 20,
  accuracy: 0.8,
  loss: 0.5,
  macroF1: 0.8,
  perClass: {
    cat: { precision: 1, recall: 0.7, f1: 0.8, support: 10 },
    dog: { precision: 0.7, recall: 1, f1: 0.8, support: 7 },
    bird: { precision: 1, recall: 1, f1: 1, support: 3 },
  },
  confusion: [
    [7, 3, 0],
    [0, 7, 0],
    [0, 0, 3],
  ],
};

async function pixels(png: Uint8Array) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { info, at: (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)] };
}

describe('confusion matrix plot', () => {
  it('draws one tinted cell per count: blue on the diagonal, red for mistakes, white for zero, with labels', async () => {
    const table = confusionTable('pets: test images', single);
    expect(table.rows).toEqual(['cat', 'dog', 'bird']);
    const png = await confusionMatrixPng(table);
    const { info, at } = await pixels(png);
    expect((await sharp(png).metadata()).format).toBe('png');
    // Geometry of confusionMatrixPng: cells of 46 px after the row labels, below two text lines.
    const cellX = (j: number) => info.width - 8 - (3 - j) * 46 + 4;
    const cellY = (i: number) => 8 + 16 * 2 + 4 + i * 46 + 4;
    const [r0, g0, b0] = at(cellX(0), cellY(0)); // cat read as cat: 7 of 10
    expect(b0).toBeGreaterThan(r0! + 40);
    const [r1, , b1] = at(cellX(1), cellY(0)); // cat read as dog: 3 of 10
    expect(r1).toBeGreaterThan(b1! + 40);
    expect(at(cellX(2), cellY(0))).toEqual([255, 255, 255]); // cat read as bird: none
    void g0;
    // The row labels are printed: dark pixels left of the cells.
    let dark = 0;
    for (let y = cellY(0); y < cellY(0) + 30; y++) for (let x = 8; x < cellX(0) - 10; x++) if (at(x, y)[0]! < 128) dark++;
    expect(dark).toBeGreaterThan(10);
  });

  it('shows a multi-label report as found / missed / false alarms / true negatives per label', async () => {
    const multi: MultiLabelReport = {
      task: 'multi',
      examples: 10,
      exactMatch: 0.7,
      hammingAccuracy: 0.9,
      loss: 0.2,
      microF1: 0.9,
      macroF1: 0.9,
      perLabel: {
        a: { precision: 1, recall: 0.8, f1: 0.89, support: 5, threshold: 0.5, auc: 0.9, counts: { tp: 4, fn: 1, fp: 0, tn: 5 } },
        b: { precision: 0.75, recall: 1, f1: 0.86, support: 3, threshold: 0.4, auc: 0.95, counts: { tp: 3, fn: 0, fp: 1, tn: 6 } },
      },
    };
    const table = confusionTable('tags', multi);
    expect(table.counts).toEqual([
      [4, 1, 0, 5],
      [3, 0, 1, 6],
    ]);
    expect(table.right(0, 0) && table.right(0, 3) && !table.right(0, 1) && !table.right(0, 2)).toBe(true);
    const { info } = await pixels(await confusionMatrixPng(table));
    expect(info.height).toBe(8 + 16 * 2 + 4 + 2 * 46 + 8 + 16);
  });
});
