import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { DataConfig } from './config';
import { ConfigError } from './yaml-config';
import { IMAGE_EXTENSIONS, type DataSource, type Example, type Fingerprint } from './dataset';
import { listingFingerprint, sha256Text } from './fingerprint';
import { imageFileLoader } from './prepare';

/**
 * An image folder with one sub-folder per class, as Keras' image_dataset_from_directory reads it:
 *
 *   <images_base_path>/<class name>/<any sub-folders>/<image>.png|jpg|jpeg|bmp|gif|tif|tiff
 *
 * Classes are the sub-folder names in sorted order (or the order of `targets`, which must then
 * name exactly the sub-folders). Hidden files and folders are skipped. Only the file list is held;
 * each image is read and decoded when its batch is made (through the server's prepareInput).
 */

function isImage(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** Image files under `dir`, recursively, sorted (code-point order of the relative path). */
function imagesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && isImage(entry.name)) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

function classFolders(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** The examples of a class-folder tree; `labels` fixes the class order. */
function scan(config: DataConfig, key: string, root: string, labels: string[], allowMissingClasses: boolean): { examples: Example[]; files: string[] } {
  const folders = classFolders(root);
  const unknown = folders.filter((f) => !labels.includes(f));
  if (unknown.length > 0) {
    throw new ConfigError(config.file, key, `${root} has class folders ${unknown.map((u) => JSON.stringify(u)).join(', ')} that are not among the classes [${labels.join(', ')}]`);
  }
  const examples: Example[] = [];
  const files: string[] = [];
  labels.forEach((name, label) => {
    if (!folders.includes(name)) {
      if (allowMissingClasses) return;
      throw new ConfigError(config.file, key, `${root} has no sub-folder ${JSON.stringify(name)}`);
    }
    const images = imagesUnder(path.join(root, name));
    if (images.length === 0 && !allowMissingClasses) {
      throw new ConfigError(config.file, key, `${path.join(root, name)} holds no images (${IMAGE_EXTENSIONS.join(' ')})`);
    }
    for (const file of images) {
      examples.push({ id: path.relative(root, file).split(path.sep).join('/'), label });
      files.push(file);
    }
  });
  return { examples, files };
}

export function openFolderSource(config: DataConfig): DataSource {
  const root = config.images_base_path!;
  const folders = classFolders(root);
  let labels: string[];
  if (config.targets) {
    const missing = config.targets.filter((t) => !folders.includes(t));
    const extra = folders.filter((f) => !config.targets!.includes(f));
    if (missing.length > 0 || extra.length > 0) {
      throw new ConfigError(
        config.file,
        'targets',
        `must name exactly the class sub-folders of ${root}` +
          `${missing.length > 0 ? `; no folder for ${missing.map((m) => JSON.stringify(m)).join(', ')}` : ''}` +
          `${extra.length > 0 ? `; not listed: ${extra.map((m) => JSON.stringify(m)).join(', ')}` : ''}`,
      );
    }
    labels = config.targets;
  } else {
    labels = folders;
  }
  if (labels.length < 2) {
    throw new ConfigError(config.file, 'images_base_path', `${root} has ${labels.length} class sub-folder(s); a classifier needs at least two (<base>/<class>/<image>)`);
  }
  const main = scan(config, 'images_base_path', root, labels, false);
  const test = config.test_path ? scan(config, 'test_path', config.test_path, labels, true) : undefined;

  return {
    kind: 'folder',
    task: 'single',
    labels,
    examples: main.examples,
    ...(test ? { testExamples: test.examples } : {}),
    description: `image folder ${root} (${main.examples.length} images in ${labels.length} class folders)${test ? `; test folder ${config.test_path} (${test.examples.length})` : ''}`,
    loader: imageFileLoader(main, test),
    async fingerprint(): Promise<Fingerprint> {
      const images = await listingFingerprint(root, main.files);
      if (!test) return { sha256: images.sha256, method: images.method, files: images.files, bytes: images.bytes };
      const testPrint = await listingFingerprint(config.test_path!, test.files);
      return {
        sha256: sha256Text(`images\t${images.sha256}\ntest\t${testPrint.sha256}\n`),
        method: `${images.method}; computed for images_base_path and test_path, then sha256 of "images\\t<sha256>\\ntest\\t<sha256>\\n"`,
        files: images.files + testPrint.files,
        bytes: images.bytes + testPrint.bytes,
        parts: { images: images.sha256, test: testPrint.sha256 },
      };
    },
  };
}
