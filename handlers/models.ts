import type { HandlerContext, UploadedFile } from './context';
import { BadRequest } from '../src/errors/errors';
import { labelThresholds, type ModelMetadata, type OutputKind } from '../src/model-store/metadata';
import { type EngineChoice, engineReport } from '../src/inference/engines/engine';
import { rankClasses } from '../src/protocols/ranking';

export interface ModelSummary extends Omit<ModelMetadata, 'training'> {
  name: string;
  version: number;
  engine: EngineChoice & { platform: string };
}

/** GET /models: every model version being served, with what its metadata declares. */
export async function listModels(_params: Record<string, never>, { models }: HandlerContext): Promise<{ models: ModelSummary[] }> {
  return {
    models: models.list().map(({ name, version, engine, metadata: { input, output, labels, preprocessing } }) => ({
      name,
      version,
      engine: engineReport(engine),
      input,
      output,
      labels,
      preprocessing,
    })),
  };
}

/** Labels answered when `top_k` is not given (all of them for a model with fewer; all for multi-label). */
export const DEFAULT_TOP_K = 5;

export interface Classification {
  model: { name: string; version: number };
  kind: OutputKind;
  /** Best first. Multi-label (`sigmoid`) models also say whether each label applies. */
  predictions: { label: string; score: number; positive?: boolean }[];
}

/**
 * POST /models/{name}/classify: one uploaded image -> the `top_k` best labels of any image model
 * in the store (the newest version unless `version` is given), preprocessed as its metadata says.
 */
export async function classify(
  { name, version, top_k: topK, file }: { name: string; version?: number; top_k?: number; file: UploadedFile },
  { models }: HandlerContext,
): Promise<Classification> {
  return models.withServable({ name, version }, async (servable) => {
    const { labels } = servable.metadata;
    // The document bounds top_k from below only: the upper bound is per model.
    if (topK !== undefined && topK > labels.length) throw new BadRequest(`top_k is ${topK} but model '${name}' has ${labels.length} labels.`);
    const [row] = await servable.predict([{ image: file.buffer }]);
    const { kind } = servable.metadata.output;
    const ranked = rankClasses(row!, servable.metadata, topK ?? (kind === 'sigmoid' ? labels.length : DEFAULT_TOP_K));
    const thresholds = labelThresholds(servable.metadata);
    return {
      model: { name: servable.name, version: servable.version },
      kind,
      predictions: ranked.map(({ index, label, score }) => (kind === 'sigmoid' ? { label, score, positive: score >= thresholds[index]! } : { label, score })),
    };
  });
}

/** A version's quality as its model card reports it, one shape for every training tool. */
export interface CardMetrics {
  split: string;
  examples?: number;
  accuracy?: number;
  microF1?: number;
  perClass: { label: string; accuracy?: number; precision?: number; recall?: number; f1?: number; support?: number }[];
  confusion?: number[][];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A `specserve train` evaluation report (src/training/evaluation.ts) -> card metrics. */
function fromReport(split: string, report: Record<string, unknown>): CardMetrics {
  const scores = isRecord(report.perClass) ? report.perClass : isRecord(report.perLabel) ? report.perLabel : {};
  const perClass = Object.entries(scores).map(([label, m]) => {
    const s = isRecord(m) ? m : {};
    const recall = num(s.recall);
    return { label, ...(report.task === 'single' && recall !== undefined ? { accuracy: recall } : {}), precision: num(s.precision), recall, f1: num(s.f1), support: num(s.support) };
  });
  const confusion = Array.isArray(report.confusion) ? (report.confusion as number[][]) : undefined;
  return {
    split,
    examples: num(report.examples) ?? num(report.images),
    accuracy: num(report.accuracy) ?? num(report.exactMatch) ?? num(report.exactMatchAccuracy),
    microF1: num(report.microF1),
    perClass,
    ...(confusion ? { confusion } : {}),
  };
}

/**
 * The metrics a version's `training` block records: a `specserve train` test (else validation)
 * report (or one of its shape: the shipped multi-label model's), or the shipped models' own fields (`heldOutAccuracy`, `testAccuracy` with
 * `perClassAccuracy`). Undefined fields are dropped by JSON.
 */
export function cardMetrics(training: Record<string, unknown> | undefined, labels: readonly string[]): CardMetrics | null {
  if (!training) return null;
  if (isRecord(training.test)) return fromReport('test', training.test);
  if (isRecord(training.validation) && training.validation.task) return fromReport('validation', training.validation);
  const perClassAccuracy = isRecord(training.perClassAccuracy) ? training.perClassAccuracy : {};
  const perClass = labels.filter((l) => num(perClassAccuracy[l]) !== undefined).map((label) => ({ label, accuracy: num(perClassAccuracy[label]) }));
  const test = num(training.testAccuracy);
  const heldOut = num(training.heldOutAccuracy);
  if (test !== undefined) return { split: 'test', accuracy: test, perClass };
  if (heldOut !== undefined) {
    const split = isRecord(training.split) ? num(training.split.heldOut) : undefined;
    return { split: 'held-out', accuracy: heldOut, examples: split, perClass };
  }
  return null;
}

/** GET /models/{name}/versions/{version}/card: the version's model-card metrics and training block. */
export async function getCard(
  { name, version }: { name: string; version: number },
  { models }: HandlerContext,
): Promise<{ model: { name: string; version: number }; metrics: CardMetrics | null; training: Record<string, unknown> | null }> {
  return models.withServable({ name, version }, async ({ metadata }) => ({
    model: { name, version },
    // JSON round trip: drops the fields a model card does not have (undefined), as the wire does.
    metrics: JSON.parse(JSON.stringify(cardMetrics(metadata.training, metadata.labels))) as CardMetrics | null,
    training: metadata.training ?? null,
  }));
}
