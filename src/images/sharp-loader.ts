import type Sharp from 'sharp';

export type SharpModule = typeof Sharp;

let loaded: SharpModule | null | undefined;

/**
 * sharp (libvips), or undefined on a platform where its prebuilt native library does not load.
 * Loaded once per thread. libvips' operation cache is turned off: every upload is new bytes, so a
 * cached operation is never reused, and the cache would only hold memory (up to 50 MB per process
 * by default).
 */
export function loadSharp(): SharpModule | undefined {
  if (loaded === undefined) {
    try {
      // A plain require, not an import: the server must start (with jimp) where sharp cannot load.
      loaded = require('sharp') as SharpModule;
      loaded.cache(false);
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}
