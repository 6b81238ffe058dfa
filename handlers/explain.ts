import type { HandlerContext, UploadedFile } from './context';
import { Negotiated } from './context';
import { BadRequest, PayloadTooLarge, UnusableImage } from '../src/errors/errors';
import { heatmapPng } from '../src/explain/heatmap-png';
import { defaultPatch, imageGeometry, occludedCopies, occlusionPlan, pixelSensitivity, sensitivityGrid } from '../src/explain/occlusion';
import { DEFAULT_IMAGE_LIMITS, prepareInput } from '../src/images';
import { labelScores, rankClasses } from '../src/protocols/ranking';

/**
 * Most occluded copies one explanation may run. They go through the model's queue like any other
 * inputs (with the base input: 1 + this many), so they must fit its `max_queue` (default 256);
 * the default patch and stride need 169 for a 28x28 or a 224x224 input.
 */
export const MAX_EXPLAIN_OCCLUSIONS = 200;

export interface Explanation {
  model: { name: string; version: number };
  /** The class explained: the model's top class for the unoccluded input. */
  class: { index: number; label: string; score: number };
  /** The model input's size, in which patch, stride and the grid are measured. */
  input: { height: number; width: number };
  patch: number;
  stride: number;
  /** rows x cols drops of the class's score, the patch at (row * stride, col * stride). */
  grid: number[][];
}

/**
 * POST /models/{name}/explain: occlusion sensitivity of the model's answer for one image. The
 * image is prepared here as the model's preprocessing says, then the prepared input and one
 * occluded copy per patch position go as tensor inputs through the version's queue (batched,
 * bounded by max_queue and REQUEST_TIMEOUT_MS like every input). Answers JSON or, for
 * `Accept: image/png`, the heatmap over the model's input.
 */
export async function explain(
  { name, version, patch, stride, file }: { name: string; version?: number; patch?: number; stride?: number; file: UploadedFile },
  { models, imageLimits = DEFAULT_IMAGE_LIMITS }: HandlerContext,
): Promise<Negotiated> {
  return models.withServable({ name, version }, async (servable) => {
    const { metadata } = servable;
    const geometry = imageGeometry(metadata.input.shape);
    if (!geometry) throw new UnusableImage(`Model '${name}' takes an input of shape [${metadata.input.shape.join(', ')}], not an image; it cannot be explained by occlusion.`);
    const side = Math.min(geometry.height, geometry.width);
    const patchPx = patch ?? defaultPatch(geometry);
    if (patchPx > side) throw new BadRequest(`patch is ${patchPx} but model '${name}' takes ${geometry.height}x${geometry.width} inputs.`);
    const stridePx = stride ?? Math.max(1, Math.round(patchPx / 2));
    if (stridePx > patchPx) throw new BadRequest(`stride (${stridePx}) must not exceed patch (${patchPx}): parts of the input would never be occluded.`);
    const plan = occlusionPlan(geometry, patchPx, stridePx);
    const count = plan.rows * plan.cols;
    if (count > MAX_EXPLAIN_OCCLUSIONS) {
      throw new PayloadTooLarge(`patch ${patchPx} and stride ${stridePx} need ${count} occlusions (${plan.rows}x${plan.cols}); at most ${MAX_EXPLAIN_OCCLUSIONS}. Use a larger stride.`);
    }

    const input = await prepareInput(file.buffer, metadata, imageLimits);
    // Tensors are transferred to the worker (detached here): send a copy, keep `input` for the PNG.
    const rows = await servable.predict([input.slice(), ...occludedCopies(input, plan)].map((tensor) => ({ tensor })));
    const [top] = rankClasses(rows[0]!, metadata, 1);
    const scores = rows.slice(1).map((row) => labelScores(row, metadata)[top!.index]!);
    const grid = sensitivityGrid(top!.score, scores, plan);
    const explanation: Explanation = {
      model: { name: servable.name, version: servable.version },
      class: top!,
      input: { height: geometry.height, width: geometry.width },
      patch: patchPx,
      stride: stridePx,
      grid: grid.map((row) => row.map((v) => Number(v.toFixed(5)))),
    };
    return new Negotiated({
      'application/json': () => explanation,
      'image/png': () => heatmapPng(input, pixelSensitivity(grid, plan), geometry),
    });
  });
}
