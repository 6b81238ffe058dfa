import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../config';
import { configureLogging } from '../log';
import { DEFAULT_IMAGE_LIMITS } from '../images';
import { loadLocalServable, type LocalServable } from '../inference/local-servable';
import { labelThresholds } from '../model-store/metadata';
import { selectTrainingBackend } from '../training/backend';
import { loadDataConfig } from '../training/data/config';
import type { DataSource, Example } from '../training/data/dataset';
import { openDataSource } from '../training/data/open';
import { splitExamples } from '../training/data/split';
import { formatReport, reportOf, type Report } from '../training/evaluation';
import { resolveModelRef } from '../training/transfer';
import { labelScores } from '../protocols/ranking';
import { type CliIo, type Command, parseCommandArgs, UsageError } from './command';

/**
 * `specserve evaluate`: scores a store model on the labelled images of a data config, with the
 * server's own loader and preprocessing (loadLocalServable, the model's metadata.json recipe),
 * and prints the same tables as the model card. The split is recomputed from the data config
 * (same examples, fractions and seed give the same split as in training), so `--split test`
 * scores exactly the images the model was not trained on, as long as the data is unchanged (a
 * changed data set is reported).
 */

export const EVALUATE_USAGE = `usage: specserve evaluate <model>[:version] --data-config FILE [--split test|validation|all] [--store DIR] [--json]

  Scores a model of the store on labelled images and prints the model card's metrics.
  <model>        model name (its highest version), name:version, or a version folder path
  --data-config  the data YAML (docs/training.md); its split is recomputed with its seed
  --split        test (default), validation, or all (every image, training ones included)
  --store        model store (default: MODEL_STORE, else ./model-store)
  --json         print the report as JSON instead of Markdown
`;

export type SplitName = 'test' | 'validation' | 'all';

export interface EvaluateArgs {
  model: string;
  dataConfig: string;
  split: SplitName;
  store: string;
  json: boolean;
}

export function parseEvaluateArgs(args: string[], env: CliIo['env']): EvaluateArgs {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { 'data-config': { type: 'string' }, split: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'the model is missing (name, name:version or a version folder)' : `one model expected, got ${positionals.join(' ')}`);
  if (values['data-config'] === undefined) throw new UsageError('--data-config is required (the data YAML)');
  const split = (values.split ?? 'test') as SplitName;
  if (!['test', 'validation', 'all'].includes(split)) throw new UsageError(`--split ${JSON.stringify(values.split)}: expected test, validation or all`);
  let store = values.store === undefined ? undefined : path.resolve(values.store);
  if (store === undefined) {
    try {
      store = loadConfig(env).modelStore;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return { model: positionals[0]!, dataConfig: values['data-config'], split, store, json: values.json ?? false };
}

/** The model's output rows for `examples`, inputs made by the data source through the model's own recipe. */
async function score(servable: LocalServable, source: DataSource, examples: readonly Example[], batchSize = 128): Promise<Float32Array[]> {
  const load = source.loader(servable.metadata);
  const rows: Float32Array[] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const batch = examples.slice(start, start + batchSize);
    rows.push(...(await servable.run(await Promise.all(batch.map((e) => load(e))))));
  }
  return rows;
}

export interface Evaluation {
  ref: string;
  dir: string;
  split: SplitName;
  report: Report;
  notes: string[];
}

export async function evaluate(a: EvaluateArgs, io: CliIo): Promise<Evaluation> {
  // An unknown model is a failure to report (exit 1), not a misuse of the command (usage, exit 2).
  const where = resolveModelRef(a.model, a.store, process.cwd());
  const data = loadDataConfig(a.dataConfig);
  const source = openDataSource(data);
  // The server's info log line about the backend would interleave with the progress; we print our own.
  if (io.env.LOG_LEVEL === undefined) configureLogging({ level: 'warn' });
  const backend = await selectTrainingBackend(io.env.TFJS_BACKEND);
  io.stderr(`backend: ${backend} (tfjs ${tf.version.tfjs})\n`);
  const version = Number(path.basename(where.dir)) || 0;
  const servable = await loadLocalServable({ name: path.basename(path.dirname(where.dir)), version, dir: where.dir }, DEFAULT_IMAGE_LIMITS);
  try {
    const m = servable.metadata;
    const task = m.output.kind === 'sigmoid' ? 'multi' : 'single';
    if (task !== source.task) throw new Error(`${where.ref} is a ${task}-label model (${m.output.kind}), the data (${data.file}) is ${source.task}-label`);
    if (m.labels.join('\u0000') !== source.labels.join('\u0000')) {
      throw new Error(`${where.ref}'s labels [${m.labels.join(', ')}] differ from the data's [${source.labels.join(', ')}] (same names in the same order needed)`);
    }
    const notes: string[] = [];
    const trained = (m.training ?? {}) as { data?: { sha256?: string }; split?: { seed?: number } };
    if (a.split !== 'all' && trained.data?.sha256) {
      const print = await source.fingerprint();
      if (print.sha256 !== trained.data.sha256) {
        notes.push(`the data's sha256 ${print.sha256} differs from the one the model was trained on (${trained.data.sha256}): the recomputed ${a.split} split may include images the model was trained on`);
      }
    }
    if (a.split !== 'all' && trained.split?.seed !== undefined && trained.split.seed !== data.seed) {
      notes.push(`seed ${data.seed} differs from the training split's seed ${trained.split.seed}: the ${a.split} split is not the one held out in training`);
    }
    const split = splitExamples(source, data);
    const examples = a.split === 'test' ? split.test : a.split === 'validation' ? split.validation : [...source.examples, ...(source.testExamples ?? [])];
    if (examples.length === 0) throw new Error(`the ${a.split} split of ${data.file} is empty (test_split 0 and no separate test set?); try --split validation`);
    const scored = await score(servable, source, examples);
    // binary-sigmoid: one unit p = P(labels[1]); scored as the two-label rows [1 - p, p], as served.
    const rows = m.output.kind === 'binary-sigmoid' ? scored.map((r) => Float32Array.from(labelScores(r, m))) : scored;
    const report = reportOf(source.task, rows, examples, source.labels, task === 'multi' ? labelThresholds(m) : undefined);
    return { ref: where.ref, dir: where.dir, split: a.split, report, notes };
  } finally {
    servable.dispose();
  }
}

const TITLES: Record<SplitName, string> = { test: 'Test', validation: 'Validation', all: 'All images (training ones included)' };

export const evaluateCommand: Command = {
  summary: "score a store model on a data config's test (or validation) images",
  usage: EVALUATE_USAGE,
  async run(args, io) {
    const a = parseEvaluateArgs(args, io.env);
    const result = await evaluate(a, io);
    for (const note of result.notes) io.stderr(`note: ${note}\n`);
    if (a.json) io.stdout(`${JSON.stringify({ model: result.ref, dir: result.dir, split: result.split, report: result.report }, null, 2)}\n`);
    else io.stdout(`## ${result.ref} (${result.dir})\n\n${formatReport(TITLES[result.split], result.report)}`);
    return 0;
  },
};
