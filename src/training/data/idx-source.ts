import * as path from 'node:path';
import type { RgbaImage } from '../../images/decode';
import { readIdxFile, type IdxArray } from '../idx';
import type { DataConfig } from './config';
import { ConfigError } from './yaml-config';
import type { DataSource, Example } from './dataset';
import { filesFingerprint } from './fingerprint';
import { prepareScene } from './prepare';

/**
 * IDX files (MNIST, Fashion-MNIST): an image file `[n, rows, cols]` (gray) or `[n, rows, cols, 3]`
 * (RGB) of uint8 and a label file `[n]` of integers 0..K-1, gzipped or not.
 *
 * Unlike the other sources, the IDX files are read whole into memory: they are raw 8-bit pixels
 * (Fashion-MNIST's training file is 47 MB), there is nothing to decode, and an IDX file cannot be
 * read image by image when gzipped. Inputs (Float32, 4x the size) are still made one batch at a
 * time by the loader, through the server's recipe (prepare.ts).
 */

interface ImageSet {
  images: Extract<IdxArray, { dtype: 'uint8' }>;
  labels: ArrayLike<number>;
}

function readPair(config: DataConfig, imagesKey: string, imagesFile: string, labelsKey: string, labelsFile: string): ImageSet {
  const images = readIdxFile(imagesFile);
  const labels = readIdxFile(labelsFile);
  const [n, , , channels = 1] = images.dims;
  if (images.dtype !== 'uint8' || (images.dims.length !== 3 && !(images.dims.length === 4 && channels === 3))) {
    throw new ConfigError(config.file, imagesKey, `${imagesFile}: expected uint8 images [n, rows, cols] or [n, rows, cols, 3], got ${images.dtype} [${images.dims.join(', ')}]`);
  }
  if (!['uint8', 'int8', 'int16', 'int32'].includes(labels.dtype) || labels.dims.length !== 1 || labels.dims[0] !== n) {
    throw new ConfigError(config.file, labelsKey, `${labelsFile}: expected ${n} integer labels [${n}] (one per image of ${path.basename(imagesFile)}), got ${labels.dtype} [${labels.dims.join(', ')}]`);
  }
  for (let i = 0; i < n!; i++) {
    if (labels.data[i]! < 0) throw new ConfigError(config.file, labelsKey, `${labelsFile}: label ${labels.data[i]} at index ${i} is negative`);
  }
  return { images, labels: labels.data };
}

function maxLabel(set: ImageSet): number {
  let m = 0;
  for (let i = 0; i < set.labels.length; i++) m = Math.max(m, set.labels[i]!);
  return m;
}

export function openIdxSource(config: DataConfig): DataSource {
  const paths = config.idx!;
  const train = readPair(config, 'idx.train_images', paths.train_images, 'idx.train_labels', paths.train_labels);
  const test =
    paths.test_images && paths.test_labels ? readPair(config, 'idx.test_images', paths.test_images, 'idx.test_labels', paths.test_labels) : undefined;
  const [, rows, cols, channels = 1] = train.images.dims;
  if (test) {
    const [, tr, tc, tch = 1] = test.images.dims;
    if (tr !== rows || tc !== cols || tch !== channels) {
      throw new ConfigError(config.file, 'idx.test_images', `images are [${tr}, ${tc}, ${tch}], the training images [${rows}, ${cols}, ${channels}]`);
    }
  }
  const classes = Math.max(maxLabel(train), test ? maxLabel(test) : 0) + 1;
  let labels: string[];
  if (config.targets) {
    if (config.targets.length < classes) {
      throw new ConfigError(config.file, 'targets', `names ${config.targets.length} labels but the label files use 0..${classes - 1}`);
    }
    labels = config.targets;
  } else {
    labels = Array.from({ length: classes }, (_, k) => String(k));
  }
  if (labels.length < 2) throw new ConfigError(config.file, 'idx.train_labels', 'holds a single class; a classifier needs at least two');

  const examplesOf = (set: ImageSet, prefix: string): Example[] =>
    Array.from({ length: set.labels.length }, (_, i) => ({ id: `${prefix}:${i}`, label: set.labels[i]! }));
  const sets: Record<string, ImageSet | undefined> = { train, test };
  const pixels = rows! * cols! * channels;

  return {
    kind: 'idx',
    task: 'single',
    labels,
    examples: examplesOf(train, 'train'),
    ...(test ? { testExamples: examplesOf(test, 'test') } : {}),
    inputShapeHint: [rows!, cols!, channels],
    description: `IDX ${paths.train_images} + ${path.basename(paths.train_labels)} (${train.labels.length} images ${rows}x${cols}x${channels})${
      test ? `; test ${paths.test_images} (${test.labels.length})` : ''
    }`,
    acceptsScene: true,
    loader(signature, scene) {
      return async (example, random) => {
        const [set, index] = example.id.split(':') as [string, string];
        const images = sets[set]?.images;
        const i = Number(index);
        if (!images || !(i >= 0 && i < images.dims[0]!)) throw new Error(`IDX example ${example.id} does not exist`);
        const rgba: RgbaImage = { width: cols!, height: rows!, data: new Uint8Array(rows! * cols! * 4) };
        const src = images.data;
        for (let p = 0, o = i * pixels; p < rows! * cols!; p++) {
          const r = src[o + p * channels]!;
          rgba.data[p * 4] = r;
          rgba.data[p * 4 + 1] = channels === 3 ? src[o + p * 3 + 1]! : r;
          rgba.data[p * 4 + 2] = channels === 3 ? src[o + p * 3 + 2]! : r;
          rgba.data[p * 4 + 3] = 255;
        }
        return prepareScene(rgba, signature, scene, random);
      };
    },
    fingerprint() {
      const files: Record<string, string> = { [path.basename(paths.train_images)]: paths.train_images, [path.basename(paths.train_labels)]: paths.train_labels };
      if (paths.test_images && paths.test_labels) {
        files[path.basename(paths.test_images)] = paths.test_images;
        files[path.basename(paths.test_labels)] = paths.test_labels;
      }
      return filesFingerprint(files);
    },
  };
}
