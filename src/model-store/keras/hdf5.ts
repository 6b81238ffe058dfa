import { open } from 'node:fs/promises';
import type * as H5 from 'h5wasm';

/**
 * HDF5 access through h5wasm (HDF5 compiled to WebAssembly; no native library). Its Node entry
 * (`h5wasm/node`, built with NODERAWFS) opens host paths directly; the default entry uses an
 * in-memory file system and cannot. It is an ES module only, and this project compiles to
 * CommonJS, so it is loaded with a real dynamic import (which TypeScript would otherwise turn into
 * `require`). It runs only inside the Keras reading thread (read-thread.ts): h5wasm copies every
 * dataset it reads into the JS heap, and a WebAssembly memory never shrinks, so the thread's end
 * is what gives that memory back.
 */
type H5Module = typeof H5;
export type H5Group = H5.Group;
export type H5Dataset = H5.Dataset;

const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<H5Module>;
let loaded: Promise<H5Module> | undefined;

async function h5wasm(): Promise<H5Module> {
  loaded ??= importEsm('h5wasm/node').then(async (module) => {
    await module.ready;
    return module;
  });
  return loaded;
}

/** The first 8 bytes of every HDF5 file (at offset 0 for the files Keras writes). */
const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** True when the file starts with the HDF5 signature. */
export async function isHdf5(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    return bytesRead === 8 && head.equals(HDF5_MAGIC);
  } finally {
    await handle.close();
  }
}

/**
 * Opens an HDF5 file read-only. `new File()` does not throw on a missing, truncated or non-HDF5
 * file: it returns a handle whose `file_id` is -1, so the signature is checked first (a clearer
 * message) and the id after.
 */
export async function openHdf5(file: string): Promise<H5.File> {
  if (!(await isHdf5(file))) throw new Error('not an HDF5 file (no \\x89HDF signature at its start)');
  const module = await h5wasm();
  const handle = new module.File(file, 'r');
  if (handle.file_id < 0n) throw new Error('HDF5 cannot open it (truncated or corrupt)');
  return handle;
}

export function isGroup(entity: unknown): entity is H5.Group {
  return typeof entity === 'object' && entity !== null && (entity as { type?: unknown }).type === 'Group';
}

export function isDataset(entity: unknown): entity is H5.Dataset {
  return typeof entity === 'object' && entity !== null && (entity as { type?: unknown }).type === 'Dataset';
}

/** A string attribute (h5py writes them as fixed or variable length; one-element arrays too). */
export function stringAttribute(object: H5.Group | H5.Dataset, name: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(object.attrs, name)) return undefined;
  const value = object.attrs[name]?.value;
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string' && value.length === 1) return value[0];
  return undefined;
}

/** A list-of-strings attribute such as `layer_names`; layers without weights give a Float64Array(0). */
export function stringListAttribute(object: H5.Group, name: string): string[] | undefined {
  if (!Object.prototype.hasOwnProperty.call(object.attrs, name)) return undefined;
  const value = object.attrs[name]?.value;
  if (typeof value === 'string') return [value];
  if (value === null || value === undefined || typeof value !== 'object') return undefined;
  return Array.from(value as ArrayLike<unknown>).map(String);
}

/** What a dataset declares (shape, element type) without reading its values. */
export interface DeclaredTensor {
  shape: number[];
  /** 'float32' | 'float64' | 'float16' | 'int' ...: the HDF5 class and size. */
  kind: string;
  bytes: number;
}

export function declared(dataset: H5.Dataset): DeclaredTensor {
  const { metadata } = dataset;
  const shape = metadata.shape ?? [];
  const elements = shape.reduce((n, d) => n * d, 1);
  const kind = metadata.type === 1 ? `float${metadata.size * 8}` : metadata.type === 0 ? `int${metadata.size * 8}` : `HDF5 class ${metadata.type}`;
  return { shape, kind, bytes: elements * metadata.size };
}

/** A float dataset's values as float32 (float64 is narrowed, as TF.js holds float32). */
export function readFloat32(dataset: H5.Dataset): Float32Array {
  const value = dataset.value;
  if (value instanceof Float32Array) return value;
  if (value instanceof Float64Array) return Float32Array.from(value);
  throw new Error(`${dataset.path}: not a float32 or float64 dataset`);
}
