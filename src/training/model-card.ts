import type { ModelMetadata } from '../model-store/metadata';
import type { Fingerprint } from './data/dataset';
import { formatReport, type Report } from './evaluation';
import type { Monitor } from './data/config';
import type { EpochRecord } from './fit';

/**
 * MODEL_CARD.md, written into the version folder beside metadata.json: what the model is, what it
 * was trained on (source and sha256), how (configs, phases, epochs, time), and how well it does
 * on the validation and test images (the same tables `specserve evaluate` prints).
 */

export interface PhaseRecord {
  name: string;
  epochs: number;
  epochsRun: number;
  bestEpoch: number;
  monitor: Monitor;
  stoppedEarly: boolean;
  interrupted: boolean;
  learningRate: number;
  seconds: number;
  trainableLayers?: string[];
}

const MONITORED: Record<Monitor, string> = { val_loss: 'lowest validation loss', val_accuracy: 'highest validation accuracy, ties to the lower loss' };

export interface ModelCardInput {
  name: string;
  version: number;
  metadata: ModelMetadata;
  dataDescription: string;
  fingerprint: Fingerprint;
  dataConfigFile: string;
  trainConfigFile: string;
  dataConfigText: string;
  trainConfigText: string;
  split: { train: number; validation: number; test: number; testFrom: string; seed: number };
  architecture: string;
  base?: { ref: string; cutLayer: string; removed?: string; frozen: boolean };
  precomputedFeatures: boolean;
  phases: PhaseRecord[];
  history: EpochRecord[];
  validation: Report;
  test?: Report;
  backend: string;
  tfjs: string;
  date: string;
  seconds: number;
  /** How to train this again, e.g. `specserve train training/mnist.yaml`. */
  reproduce: string;
  /** The data's licence / terms, from the data config's `licence`. */
  licence?: string;
}

/** The confusion matrix picture written beside the card (confusion-plot.ts). */
export const CONFUSION_PNG = 'confusion-matrix.png';

/**
 * The most frequent mistakes of a report, as lines for "Known weaknesses": single-label, the
 * largest off-diagonal cells (true label read as another); multi-label, the labels with the
 * lowest F1 and whether they are missed or found where absent.
 */
export function weaknesses(r: Report, limit = 4): string[] {
  if (r.task === 'single') {
    const labels = Object.keys(r.perClass);
    const cells: { from: number; to: number; n: number }[] = [];
    r.confusion.forEach((row, i) => row.forEach((n, j) => i !== j && n > 0 && cells.push({ from: i, to: j, n })));
    cells.sort((a, b) => b.n - a.n);
    return cells.slice(0, limit).map((c) => {
      const support = r.perClass[labels[c.from]!]!.support;
      return `\`${labels[c.from]}\` read as \`${labels[c.to]}\`: ${c.n} of ${support} (${((100 * c.n) / Math.max(1, support)).toFixed(1)}%)`;
    });
  }
  return Object.entries(r.perLabel)
    .sort((a, b) => a[1].f1 - b[1].f1)
    .slice(0, limit)
    .map(([label, m]) => `\`${label}\`: F1 ${m.f1.toFixed(4)} (missed ${m.counts.fn} of ${m.support}, found where absent ${m.counts.fp} times)`);
}

const yamlBlock = (text: string) => `\`\`\`yaml\n${text.trimEnd()}\n\`\`\``;

export function modelCard(c: ModelCardInput): string {
  const m = c.metadata;
  const out: string[] = [];
  const task =
    m.output.kind === 'softmax'
      ? 'single-label classification (softmax: the labels\' probabilities sum to 1)'
      : m.output.kind === 'binary-sigmoid'
        ? `two-label classification (binary-sigmoid: one unit p = P(\`${m.labels[1]}\`), \`${m.labels[0]}\` gets 1 - p)`
        : 'multi-label classification (sigmoid: one independent score per label; a label applies at or above its threshold)';
  out.push(`# Model card: ${c.name}, version ${c.version}`, '');
  out.push(`Trained by \`specserve train\` on ${c.date} (${c.backend} backend, TensorFlow.js ${c.tfjs}), ${Math.round(c.seconds)} s in all.`, '');
  out.push('## Model', '');
  out.push(`- Task: ${task}.`);
  out.push(`- Labels (${m.labels.length}, output order): ${m.labels.map((l) => `\`${l}\``).join(', ')}.`);
  out.push(`- Input: \`${m.input.name}\` [${m.input.shape.join(', ')}] float32; preprocessing \`${JSON.stringify(m.preprocessing)}\` (the server applies the same recipe to uploads).`);
  out.push(`- Output: \`${m.output.name}\`, ${m.output.kind}${m.output.threshold !== undefined ? `, thresholds ${JSON.stringify(m.output.threshold)} (chosen per label for the best F1 on the validation images)` : ''}.`);
  out.push(`- Network: ${c.architecture}.`);
  if (c.base) {
    out.push(
      `- Transfer learning from \`${c.base.ref}\`, cut at \`${c.base.cutLayer}\`${c.base.removed ? ` (its classifier \`${c.base.removed}\` removed)` : ''}; ` +
        `base ${c.base.frozen ? 'frozen' : 'trained too'}${c.precomputedFeatures ? '; base features computed once per image (frozen base, no augmentation)' : ''}.`,
    );
  }
  out.push('');
  out.push('## Data', '');
  out.push(`- Source: ${c.dataDescription}.`);
  if (c.licence) out.push(`- Licence: ${c.licence}.`);
  out.push(`- sha256 \`${c.fingerprint.sha256}\` (${c.fingerprint.files} files, ${c.fingerprint.bytes} bytes): ${c.fingerprint.method}.`);
  if (c.fingerprint.parts) for (const [k, v] of Object.entries(c.fingerprint.parts)) out.push(`  - ${k}: \`${v}\``);
  const testFrom = c.split.testFrom === 'separate' ? 'a separate test set' : c.split.testFrom === 'split' ? 'split off the data' : 'none';
  out.push(
    `- Split (seed ${c.split.seed}): ${c.split.train} training, ${c.split.validation} validation (early stopping, best epoch${m.output.kind === 'sigmoid' ? ', thresholds' : ''}), ` +
      `${c.split.test} test (${testFrom}; scored once, after training).`,
  );
  out.push('');
  out.push('## Training', '');
  for (const p of c.phases) {
    out.push(
      `- Phase \`${p.name}\`: ${p.epochsRun} of ${p.epochs} epochs run, best epoch ${p.bestEpoch} (${MONITORED[p.monitor]})${p.stoppedEarly ? ', stopped early (none better for early_stopping_patience epochs)' : ''}` +
        `${p.interrupted ? ', **interrupted** (Ctrl-C): the best weights so far were saved' : ''}; initial learning rate ${p.learningRate}; ${Math.round(p.seconds)} s` +
        `${p.trainableLayers ? `; trainable base layers: ${p.trainableLayers.length > 0 ? p.trainableLayers.map((l) => `\`${l}\``).join(', ') : 'none'}` : ''}.`,
    );
  }
  out.push('', '| phase | epoch | lr | loss | acc | val_loss | val_acc | seconds |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const h of c.history) {
    out.push(
      `| ${h.phase} | ${h.epoch}${h.best ? ' *' : ''} | ${h.learningRate.toExponential(2)} | ${h.loss.toFixed(4)} | ${h.accuracy.toFixed(4)} | ${h.validationLoss.toFixed(4)} | ${h.validationAccuracy.toFixed(4)} | ${h.seconds.toFixed(1)} |`,
    );
  }
  out.push('', '`*`: lowest validation loss so far (weights kept). Accuracy: top-1 for softmax, per label at 0.5 for sigmoid.', '');
  out.push('## Evaluation', '');
  out.push(formatReport('Validation', c.validation));
  if (c.test) out.push(formatReport('Test', c.test));
  else out.push('No test set (test_split 0 and no separate test data).', '');
  out.push(`![${c.test ? 'test' : 'validation'} confusion matrix](${CONFUSION_PNG})`, '');
  out.push('## Known weaknesses', '');
  const worst = weaknesses(c.test ?? c.validation);
  out.push(`Most frequent mistakes on the ${c.test ? 'test' : 'validation'} images:`, '', ...(worst.length > 0 ? worst.map((w) => `- ${w}`) : ['- none']), '');
  out.push('## How to reproduce', '');
  out.push('```sh', c.reproduce, '```', '');
  out.push('The same configs, data and backend give the same model (seeded splits, weights, shuffles, augmentation and dropout).', '');
  out.push('## Configs', '');
  if (c.dataConfigFile === c.trainConfigFile) {
    out.push(`\`${c.dataConfigFile}\`:`, '', yamlBlock(c.dataConfigText), '');
  } else {
    out.push(`Data config \`${c.dataConfigFile}\`:`, '', yamlBlock(c.dataConfigText), '');
    out.push(`Training config \`${c.trainConfigFile}\`:`, '', yamlBlock(c.trainConfigText), '');
  }
  out.push('## Limitations', '');
  out.push(
    '- The scores above hold for images like the test set; photos from other sources, sizes or lighting may score lower.',
    m.output.kind === 'sigmoid'
      ? '- Thresholds were tuned on the validation images; with few validation positives for a label its threshold is uncertain.'
      : '- A softmax model always answers with one of its labels, also for images that show none of them.',
    '',
  );
  return out.join('\n');
}
