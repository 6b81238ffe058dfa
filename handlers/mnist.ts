import type { HandlerContext, UploadedFile } from './context';
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
  { models }: HandlerContext,
): Promise<DigitPrediction> {
  return models.withServable({ name: 'mnist' }, (servable) => classifyDigit(servable, file), 503);
}

async function classifyDigit(servable: Servable, file: UploadedFile): Promise<DigitPrediction> {
  const [output] = await servable.predict([{ image: file.buffer }]);
  const [best] = rankClasses(output, servable.metadata, 1);
  return {
    digit: Number(best.label),
    confidence: best.score,
    probabilities: Array.from(output, probability),
    model: { name: servable.name, version: servable.version },
  };
}
