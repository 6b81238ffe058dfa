import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The project root: the nearest folder above this file holding package.json. The same answer
 * whether the code runs from src/ (ts-jest) or from dist/src/ (compiled), so `api/` and
 * `model-store/` are found from either.
 */
function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`No package.json above ${start}`);
  }
}

export const PROJECT_ROOT = findProjectRoot(__dirname);

/** Where compiled-or-not code lives: the project root, or dist/ when running compiled code. */
export const CODE_ROOT = path.resolve(__dirname, '..');

export const SPEC_FILE = path.join(PROJECT_ROOT, 'api', 'models.yaml');
export const HANDLERS_DIR = path.join(CODE_ROOT, 'handlers');
export const DEFAULT_MODEL_STORE = path.join(PROJECT_ROOT, 'model-store');
/** The vendored official .proto files of the gRPC protocols (api/protos/SOURCES.md). */
export const PROTOS_DIR = path.join(PROJECT_ROOT, 'api', 'protos');
