/**
 * The seed tutorials' routes, with their JSON shapes, served from the model store: the Keras REST
 * API (`POST /predict`), the Flask + Gunicorn server (`GET /`, `POST /inference`) and the FastAPI
 * multi-label server (`POST /scorefile/`). The model behind each is configuration.
 */
import type { HandlerContext, UploadedFile } from './context';
import { ServiceUnavailable } from '../src/errors/errors';
import type { ModelManager } from '../src/inference/manager';
import type { Servable } from '../src/inference/servable';
import { type RankedClass, rankClasses } from '../src/protocols/ranking';

const TOP = 5;

/** GET /: the Flask + Gunicorn tutorial's health check. */
export async function home(): Promise<{ outcome: 'endpoint working successfully' }> {
  return { outcome: 'endpoint working successfully' };
}

/** POST /predict: `{success, predictions: [{label, probability}]}`, five best first. */
export async function predict(
  { image }: { image: UploadedFile },
  context: HandlerContext,
): Promise<{ success: true; predictions: { label: string; probability: number }[] }> {
  const ranked = await classify(image, context, { route: 'POST /predict', setting: 'PREDICT_MODEL', name: context.routeModels.predict }, TOP);
  return { success: true, predictions: ranked.map(({ label, score }) => ({ label, probability: score })) };
}

/** POST /inference: `{label: probability}` for the five best labels, best first. */
export async function inference({ image }: { image: UploadedFile }, context: HandlerContext): Promise<Record<string, number>> {
  return asObject(await classify(image, context, { route: 'POST /inference', setting: 'INFERENCE_MODEL', name: context.routeModels.inference }, TOP));
}

/** POST /scorefile/: `{label: score}` for every label of the multi-label model, in label order. */
export async function scorefile({ file }: { file: UploadedFile }, context: HandlerContext): Promise<Record<string, number>> {
  const name = context.routeModels.scorefile ?? firstMultiLabelModel(context.models);
  const ranked = await classify(file, context, { route: 'POST /scorefile/', setting: 'SCOREFILE_MODEL', name });
  return asObject([...ranked].sort((a, b) => a.index - b.index));
}

/** Which model a route runs, and the setting that chose it (named in the 503 when it is missing). */
interface RouteModel {
  route: string;
  setting: string;
  name: string;
}

/** The first (by name) model serving a `sigmoid` output, when SCOREFILE_MODEL does not name one. */
function firstMultiLabelModel(models: ModelManager): string {
  const found = models.list().find((s) => s.metadata.output.kind === 'sigmoid');
  if (!found) {
    throw new ServiceUnavailable(
      "POST /scorefile/ needs a multi-label model and none is loaded. Add a model whose metadata.json has output.kind 'sigmoid' (e.g. mnist-multilabel/1/ in the model store, MODEL_STORE) or set SCOREFILE_MODEL.",
      5,
    );
  }
  return found.name;
}

/** Runs the route's model (newest version) on one image: its `top` best labels (all by default); 503 naming the model and its setting when absent. */
async function classify(file: UploadedFile, { models }: HandlerContext, { route, setting, name }: RouteModel, top?: number): Promise<RankedClass[]> {
  if (models.ready && models.availableVersions(name).length === 0) {
    throw new ServiceUnavailable(
      `${route} needs model '${name}' (${setting}), which is not loaded. Add a ${name}/<version>/ folder to the model store (MODEL_STORE) or set ${setting} to a loaded model.`,
      5,
    );
  }
  return models.withServable({ name }, async (servable: Servable) => {
    const [row] = await servable.predict([{ image: file.buffer }]);
    return rankClasses(row!, servable.metadata, top);
  }, 503);
}

function asObject(ranked: readonly RankedClass[]): Record<string, number> {
  return Object.fromEntries(ranked.map(({ label, score }) => [label, score]));
}
