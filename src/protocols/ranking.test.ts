import { rankClasses } from './ranking';

describe('rankClasses', () => {
  it('orders classes best first, ties in label order, scores clamped to 0..1', () => {
    expect(rankClasses([0.2, 1.0000001, 0.2, -1e-9], ['a', 'b', 'c', 'd'])).toEqual([
      { index: 1, label: 'b', score: 1 },
      { index: 0, label: 'a', score: 0.2 },
      { index: 2, label: 'c', score: 0.2 },
      { index: 3, label: 'd', score: 0 },
    ]);
  });
});
