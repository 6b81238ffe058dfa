import type { HandlerContext, UploadedFile } from './context';
import { BadRequest } from '../src/errors/errors';
import { labelThresholds, type ModelMetadata, type OutputKind } from '../src/model-store/metadata';
import { type EngineChoice, enginePlatform } from '../src/inference/engines/engine';
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
      engine: { name: engine.name, platform: enginePlatform(engine.name), reason: engine.reason },
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
    const ranked = rankClasses(row!, servable.metadata);
    const thresholds = labelThresholds(servable.metadata);
    return {
      model: { name: servable.name, version: servable.version },
      kind,
      predictions: ranked
        .slice(0, topK ?? (kind === 'sigmoid' ? labels.length : DEFAULT_TOP_K))
        .map(({ index, label, score }) => (kind === 'sigmoid' ? { label, score, positive: score >= thresholds[index]! } : { label, score })),
    };
  });
}
