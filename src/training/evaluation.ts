import type { Example, Task } from './data/dataset';

/**
 * Scores of a trained model on labelled examples, from its output rows: what the model card,
 * metadata.json's `training` block and `specserve evaluate` report (one implementation for all).
 *
 * Single-label (softmax): accuracy, mean categorical cross-entropy, per-class precision / recall /
 * F1 / support of the arg-max prediction, the confusion matrix (rows: true class, columns:
 * predicted). Multi-label (sigmoid): per label the threshold used, precision / recall / F1 at it,
 * ROC AUC (threshold-free) and support; exact-match and Hamming accuracy, micro and macro F1,
 * mean binary cross-entropy.
 */

const { log, min, max, abs } = Math;

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Examples of this class. */
  support: number;
}

export interface SingleLabelReport {
  task: 'single';
  examples: number;
  accuracy: number;
  loss: number;
  macroF1: number;
  perClass: Record<string, ClassMetrics>;
  /** matrix[true][predicted], in label order. */
  confusion: number[][];
}

export interface LabelMetrics extends ClassMetrics {
  threshold: number;
  /** The label's confusion counts at its threshold. */
  counts: { tp: number; fn: number; fp: number; tn: number };
  /** ROC AUC; null when the examples hold only positives or only negatives of the label. */
  auc: number | null;
}

export interface MultiLabelReport {
  task: 'multi';
  examples: number;
  /** Every label right (predicted set = true set). */
  exactMatch: number;
  /** Fraction of (example, label) decisions that are right. */
  hammingAccuracy: number;
  loss: number;
  microF1: number;
  macroF1: number;
  perLabel: Record<string, LabelMetrics>;
}

export type Report = SingleLabelReport | MultiLabelReport;

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
const f1Of = (tp: number, fp: number, fn: number) => ratio(2 * tp, 2 * tp + fp + fn);
export const round4 = (v: number): number => Number(v.toFixed(4));
const EPS = 1e-7;

function argMax(row: Float32Array): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best;
}

/** Loss and accuracy only (per epoch): top-1 for single-label, per-label at 0.5 for multi-label (Keras' binary accuracy), plus exact match. */
export function quickScores(rows: Float32Array[], examples: readonly Example[], task: Task): { loss: number; accuracy: number; exactMatch?: number } {
  if (task === 'single') {
    let hits = 0;
    let loss = 0;
    rows.forEach((row, i) => {
      const label = examples[i]!.label;
      if (argMax(row) === label) hits++;
      loss -= log(min(1, max(EPS, row[label]!)));
    });
    return { loss: ratio(loss, rows.length), accuracy: ratio(hits, rows.length) };
  }
  let right = 0;
  let exact = 0;
  let loss = 0;
  let n = 0;
  rows.forEach((row, i) => {
    const t = examples[i]!.targets!;
    let all = true;
    for (let k = 0; k < row.length; k++) {
      const p = min(1 - EPS, max(EPS, row[k]!));
      const positive = t[k]! > 0.5;
      loss -= positive ? log(p) : log(1 - p);
      n++;
      if (row[k]! >= 0.5 === positive) right++;
      else all = false;
    }
    if (all) exact++;
  });
  return { loss: ratio(loss, n), accuracy: ratio(right, n), exactMatch: ratio(exact, rows.length) };
}

export function singleLabelReport(rows: Float32Array[], examples: readonly Example[], labels: readonly string[]): SingleLabelReport {
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  rows.forEach((row, i) => confusion[examples[i]!.label]![argMax(row)]!++);
  const perClass: Record<string, ClassMetrics> = {};
  let f1Sum = 0;
  labels.forEach((label, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, r) => a + r[c]!, 0);
    const f1 = f1Of(tp, predicted - tp, support - tp);
    f1Sum += f1;
    perClass[label] = { precision: round4(ratio(tp, predicted)), recall: round4(ratio(tp, support)), f1: round4(f1), support };
  });
  const { loss, accuracy } = quickScores(rows, examples, 'single');
  return { task: 'single', examples: rows.length, accuracy: round4(accuracy), loss: round4(loss), macroF1: round4(f1Sum / k), perClass, confusion };
}

/**
 * ROC AUC of `scores` for the 0/1 `positives`: the probability that a random positive scores
 * above a random negative (ties count half), by ranks (Mann-Whitney U). Null without both kinds.
 */
export function rocAuc(scores: ArrayLike<number>, positives: ArrayLike<boolean>): number | null {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPos = 0;
  let nPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const rank = (i + j) / 2 + 1; // average 1-based rank of the tie group
    for (let t = i; t <= j; t++) if (positives[idx[t]!]) (rankSumPos += rank), nPos++;
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Per label, the threshold with the best F1 on these examples (meant for the validation set):
 * candidates are the midpoints between consecutive distinct scores (a label is predicted at
 * score >= threshold); among equal F1 the one nearest 0.5 wins. A label without positives keeps 0.5.
 */
export function bestThresholds(rows: Float32Array[], examples: readonly Example[], labels: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < labels; k++) {
    const items = rows.map((r, i) => ({ s: r[k]!, pos: examples[i]!.targets![k]! > 0.5 })).sort((a, b) => b.s - a.s);
    const totalPos = items.filter((it) => it.pos).length;
    if (totalPos === 0) {
      out.push(0.5);
      continue;
    }
    let best = { f1: -1, threshold: 0.5 };
    let tp = 0;
    let fp = 0;
    // Predicting the top i+1 items positive: threshold between items[i] and items[i+1].
    for (let i = 0; i < items.length; i++) {
      if (items[i]!.pos) tp++;
      else fp++;
      const next = items[i + 1];
      if (next && next.s === items[i]!.s) continue; // a threshold cannot split equal scores
      const threshold = next ? (items[i]!.s + next.s) / 2 : items[i]!.s / 2;
      const f1 = f1Of(tp, fp, totalPos - tp);
      if (f1 > best.f1 + 1e-12 || (abs(f1 - best.f1) <= 1e-12 && abs(threshold - 0.5) < abs(best.threshold - 0.5))) best = { f1, threshold };
    }
    out.push(round4(min(1, max(0, best.threshold))));
  }
  return out;
}

export function multiLabelReport(rows: Float32Array[], examples: readonly Example[], labels: readonly string[], thresholds: readonly number[]): MultiLabelReport {
  const k = labels.length;
  const tp = new Array<number>(k).fill(0);
  const fp = new Array<number>(k).fill(0);
  const fn = new Array<number>(k).fill(0);
  let exact = 0;
  let right = 0;
  rows.forEach((row, i) => {
    const t = examples[i]!.targets!;
    let all = true;
    for (let c = 0; c < k; c++) {
      const predicted = row[c]! >= thresholds[c]!;
      const actual = t[c]! > 0.5;
      if (predicted && actual) tp[c]++;
      else if (predicted) fp[c]++;
      else if (actual) fn[c]++;
      if (predicted === actual) right++;
      else all = false;
    }
    if (all) exact++;
  });
  const perLabel: Record<string, LabelMetrics> = {};
  let f1Sum = 0;
  labels.forEach((label, c) => {
    const f1 = f1Of(tp[c]!, fp[c]!, fn[c]!);
    f1Sum += f1;
    const auc = rocAuc(
      rows.map((r) => r[c]!),
      examples.map((e) => e.targets![c]! > 0.5),
    );
    perLabel[label] = {
      threshold: thresholds[c]!,
      precision: round4(ratio(tp[c]!, tp[c]! + fp[c]!)),
      recall: round4(ratio(tp[c]!, tp[c]! + fn[c]!)),
      f1: round4(f1),
      auc: auc === null ? null : round4(auc),
      support: tp[c]! + fn[c]!,
      counts: { tp: tp[c]!, fn: fn[c]!, fp: fp[c]!, tn: rows.length - tp[c]! - fn[c]! - fp[c]! },
    };
  });
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  const { loss } = quickScores(rows, examples, 'multi');
  return {
    task: 'multi',
    examples: rows.length,
    exactMatch: round4(ratio(exact, rows.length)),
    hammingAccuracy: round4(ratio(right, rows.length * k)),
    loss: round4(loss),
    microF1: round4(f1Of(sum(tp), sum(fp), sum(fn))),
    macroF1: round4(f1Sum / k),
    perLabel,
  };
}

/** The report for `task`; multi-label needs the thresholds. */
export function reportOf(task: Task, rows: Float32Array[], examples: readonly Example[], labels: readonly string[], thresholds?: readonly number[]): Report {
  return task === 'single' ? singleLabelReport(rows, examples, labels) : multiLabelReport(rows, examples, labels, thresholds ?? labels.map(() => 0.5));
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const num = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));
const cell = (s: string) => s.replace(/\|/g, '\\|');

/**
 * A report as Markdown (the model card's sections and `specserve evaluate`'s output): summary
 * line, per-class / per-label table and, for single-label data, the confusion matrix.
 */
export function formatReport(title: string, r: Report): string {
  const lines: string[] = [`### ${title}`, ''];
  if (r.task === 'single') {
    lines.push(`${r.examples} images: accuracy **${pct(r.accuracy)}**, macro F1 ${r.macroF1.toFixed(4)}, loss ${r.loss.toFixed(4)}`, '');
    lines.push('| class | precision | recall | F1 | support |', '|---|---:|---:|---:|---:|');
    for (const [label, m] of Object.entries(r.perClass)) lines.push(`| ${cell(label)} | ${num(m.precision)} | ${num(m.recall)} | ${num(m.f1)} | ${m.support} |`);
    const labels = Object.keys(r.perClass);
    lines.push('', 'Confusion matrix (rows: true class, columns: predicted):', '');
    lines.push(`| true \\ predicted | ${labels.map(cell).join(' | ')} |`, `|---|${labels.map(() => '---:').join('|')}|`);
    r.confusion.forEach((row, i) => lines.push(`| ${cell(labels[i]!)} | ${row.join(' | ')} |`));
  } else {
    lines.push(
      `${r.examples} images: exact match **${pct(r.exactMatch)}**, Hamming accuracy ${pct(r.hammingAccuracy)}, micro F1 ${r.microF1.toFixed(4)}, macro F1 ${r.macroF1.toFixed(4)}, loss ${r.loss.toFixed(4)}`,
      '',
    );
    lines.push('| label | threshold | precision | recall | F1 | AUC | support |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const [label, m] of Object.entries(r.perLabel)) {
      lines.push(`| ${cell(label)} | ${m.threshold.toFixed(4)} | ${num(m.precision)} | ${num(m.recall)} | ${num(m.f1)} | ${num(m.auc)} | ${m.support} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** One line: accuracy (single) or exact match and macro F1 (multi). */
export function summaryOf(r: Report): string {
  return r.task === 'single'
    ? `accuracy ${pct(r.accuracy)} on ${r.examples} images (macro F1 ${r.macroF1.toFixed(4)})`
    : `exact match ${pct(r.exactMatch)}, micro F1 ${r.microF1.toFixed(4)}, macro F1 ${r.macroF1.toFixed(4)} on ${r.examples} images`;
}
