import type { RgbaImage } from '../../images/decode';
import type { ModelMetadata } from '../../model-store/metadata';
import type { Random } from '../prng';
import type { SourceKind } from './config';

/**
 * What every data source (IDX, image folder, CSV) gives the trainer: the label names, the task,
 * and the examples as cheap references (a file path or an index), never decoded pixels. Pixels are
 * produced one batch at a time by `loader(signature)` (see batches.ts).
 */

/** single: exactly one label per example (softmax); multi: any subset of the labels (sigmoid). */
export type Task = 'single' | 'multi';

export interface Example {
  /** Stable, human-readable: the file path relative to the data root, or `train:123` for IDX. */
  id: string;
  /** single: index into `labels`. multi: -1. */
  label: number;
  /** multi: one 0/1 per label. */
  targets?: Float32Array;
}

/** The input a model expects and how an image becomes it (from metadata.json). */
export type Signature = Pick<ModelMetadata, 'input' | 'preprocessing'>;

/** Where the data came from and its fingerprint, recorded in metadata.json and the model card. */
export interface Fingerprint {
  /** sha256 of what identifies the data (see each source). */
  sha256: string;
  /** How the sha256 was computed. */
  method: string;
  files: number;
  bytes: number;
  /** Per file sha256 where there are only a few files (IDX, CSV). */
  parts?: Record<string, string>;
}

export interface DataSource {
  kind: SourceKind;
  task: Task;
  labels: string[];
  /** Everything that is split into train / validation (/ test), in a fixed order. */
  examples: Example[];
  /** A separate test set (idx.test_*, test_path), if the config names one. */
  testExamples?: Example[];
  /** The input shape the data itself implies (IDX: [rows, cols, channels]); folders and CSVs imply none. */
  inputShapeHint?: number[];
  /** One line: what and where. */
  description: string;
  /**
   * A function giving one example's model input through the recipe of `signature` (the server's
   * preprocessing). Errors name the example. With `scene` (sources that set acceptsScene), the
   * picture is distorted by it before the recipe whenever a `random` is passed (training batches).
   */
  loader(signature: Signature, scene?: SceneAugmenter): ExampleLoader;
  /** True when the examples are raw pixels a scene augmenter can redraw (idx, mnist-package). */
  acceptsScene?: boolean;
  fingerprint(): Promise<Fingerprint>;
}

/** One example's model input; `random` (training batches) lets a scene augmenter draw. */
export type ExampleLoader = (example: Example, random?: Random) => Promise<Float32Array>;

/** Redraws a picture before the preprocessing recipe (scene-augment.ts). */
export type SceneAugmenter = (picture: RgbaImage, random: Random) => RgbaImage;

/** The label vector of `example`: one-hot (single) or its 0/1 targets (multi), into `out` at `offset`. */
export function writeTargets(example: Example, out: Float32Array, offset: number): void {
  if (example.targets) out.set(example.targets, offset);
  else out[offset + example.label] = 1;
}

/** Image file extensions the folder and CSV sources take (the formats the server decodes). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff'];
