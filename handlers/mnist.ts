import type { HandlerContext, UploadedFile } from './context';
import { type ImageLimits, prepareInput } from '../src/images';
import type { Servable } from '../src/inference/servable';
import { probability, rankClasses } from '../src/protocols/ranking';

export interface DigitPrediction {
  digit: number;
  confidence: number;
  probabilities: number[];
  model: { name: string; version: number };
}

/** POST /mnist/classify: one uploaded image of a digit -> the digit and its probabilities. */
export async function postImage(
  { file }: { file: UploadedFile },
  { models, imageLimits }: HandlerContext,
): Promise<DigitPrediction> {
  return models.withServable({ name: 'mnist' }, (servable) => classifyDigit(servable, file, imageLimits), 503);
}

async function classifyDigit(servable: Servable, file: UploadedFile, imageLimits: ImageLimits): Promise<DigitPrediction> {
  const input = await prepareInput(file.buffer, servable.metadata, imageLimits);
  const [output] = await servable.predict([input]);
  const [best] = rankClasses(output, servable.metadata);
  return {
    digit: Number(best.label),
    confidence: best.score,
    probabilities: Array.from(output, probability),
    model: { name: servable.name, version: servable.version },
  };
}
