import { labelsAboveThreshold, labelScores, rankClasses } from './ranking';

const softmax = { name: 'probs', kind: 'softmax' as const };

describe('rankClasses', () => {
  it('orders classes best first, ties in label order, scores clamped to 0..1', () => {
    expect(rankClasses([0.2, 1.0000001, 0.2, -1e-9], { output: softmax, labels: ['a', 'b', 'c', 'd'] })).toEqual([
      { index: 1, label: 'b', score: 1 },
      { index: 0, label: 'a', score: 0.2 },
      { index: 2, label: 'c', score: 0.2 },
      { index: 3, label: 'd', score: 0 },
    ]);
  });

  it('the best k are the first k of the whole ranking, ties included', () => {
    const labels = Array.from({ length: 1000 }, (_, i) => `class ${i}`);
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let trial = 0; trial < 5; trial++) {
      // Coarse scores (a tenth apart) so that many classes tie, as saturated softmax rows do.
      const row = labels.map(() => Math.round(random() * 10) / 10);
      const all = rankClasses(row, { output: softmax, labels });
      for (const k of [0, 1, 5, 17, 999, 1000, 1001]) expect(rankClasses(row, { output: softmax, labels }, k)).toEqual(all.slice(0, k));
    }
  });
});

describe('output kinds', () => {
  it('binary-sigmoid: one unit p is P(labels[1]); labels[0] gets 1 - p', () => {
    const model = { output: { name: 'p', kind: 'binary-sigmoid' as const }, labels: ['cat', 'dog'] };
    expect(labelScores([0.75], model)).toEqual([0.25, 0.75]);
    expect(rankClasses([0.25], model).map((c) => [c.label, c.score])).toEqual([
      ['cat', 0.75],
      ['dog', 0.25],
    ]);
  });

  it('sigmoid: labels at or above their threshold apply, one threshold or one per label', () => {
    const labels = ['beach', 'city', 'sunset', 'trees'];
    const row = [0.9, 0.5, 0.2, 0.6];
    expect(labelsAboveThreshold(row, { output: { name: 's', kind: 'sigmoid' }, labels }).map((c) => c.label)).toEqual(['beach', 'trees', 'city']);
    expect(labelsAboveThreshold(row, { output: { name: 's', kind: 'sigmoid', threshold: 0.7 }, labels }).map((c) => c.label)).toEqual(['beach']);
    const perLabel = { output: { name: 's', kind: 'sigmoid' as const, threshold: [0.95, 0.4, 0.1, 0.7] }, labels };
    expect(labelsAboveThreshold(row, perLabel).map((c) => c.label)).toEqual(['city', 'sunset']);
  });
});
