// Shrinks the production node_modules of the image (Dockerfile, deps stage):
// - native packages that ship every platform's binaries keep only linux/<arch>'s:
//   onnxruntime-node (bin/napi-v*/<platform>/<arch>/) and sharp's @img/sharp-* packages;
// - @tensorflow/tfjs-node is removed unless --keep-tfjs-node (its libtensorflow download
//   only happens with `--build-arg TFJS_NODE=true`; without it the package is an empty shell);
// - source maps, type declarations and bundle reports, which Node never loads at run time
//   (212 MB of source maps in the production tree today, 196 MB of them in @tensorflow).
// Usage: node prune-node-modules.mjs <node_modules> <arch: x64 | arm64 | amd64> [--keep-tfjs-node]
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const [root, archArg, ...flags] = process.argv.slice(2);
if (!root || !archArg) {
  console.error('usage: node prune-node-modules.mjs <node_modules> <arch> [--keep-tfjs-node]');
  process.exit(2);
}
const arch = { amd64: 'x64', x86_64: 'x64', aarch64: 'arm64' }[archArg] ?? archArg;
let freed = 0;

function size(target) {
  const stat = statSync(target, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(target).reduce((sum, entry) => sum + size(path.join(target, entry)), 0);
}

function remove(target) {
  freed += size(target);
  rmSync(target, { recursive: true, force: true });
}

const dirs = (dir) => (existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : []);

// onnxruntime-node: bin/napi-v<N>/<platform>/<arch>/
const ortBin = path.join(root, 'onnxruntime-node', 'bin');
for (const napi of dirs(ortBin)) {
  for (const platform of dirs(path.join(ortBin, napi))) {
    if (platform !== 'linux') remove(path.join(ortBin, napi, platform));
    else for (const a of dirs(path.join(ortBin, napi, platform))) if (a !== arch) remove(path.join(ortBin, napi, platform, a));
  }
}

// sharp: @img/sharp-<platform>-<arch> and @img/sharp-libvips-<platform>-<arch> (glibc image: no musl)
for (const name of dirs(path.join(root, '@img'))) {
  const match = /^sharp-(?:libvips-)?(.+)$/.exec(name);
  if (match && match[1] !== `linux-${arch}`) remove(path.join(root, '@img', name));
}

if (!flags.includes('--keep-tfjs-node')) remove(path.join(root, '@tensorflow', 'tfjs-node'));

// Files Node does not load: *.map, *.d.ts, *.d.mts, *.d.cts, bundle reports (*.min.js.html).
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (/\.(?:map|d\.ts|d\.mts|d\.cts)$|\.min\.js\.html$/.test(entry.name)) remove(full);
  }
};
walk(root);
console.log(`pruned ${(freed / 1024 / 1024).toFixed(1)} MB from ${root} (kept linux/${arch} binaries)`);
