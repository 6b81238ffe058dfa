import type { HandlerContext } from './context';
import type { ModelMetadata } from '../src/model-store/metadata';

export interface ModelSummary extends Omit<ModelMetadata, 'training'> {
  name: string;
  version: number;
}

/** GET /models: every model version being served, with what its metadata declares. */
export async function listModels(_params: Record<string, never>, { models }: HandlerContext): Promise<{ models: ModelSummary[] }> {
  return {
    models: models.list().map(({ name, version, metadata: { input, output, labels, preprocessing } }) => ({
      name,
      version,
      input,
      output,
      labels,
      preprocessing,
    })),
  };
}
