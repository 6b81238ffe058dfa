import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MNIST_FILES, mnistArchive, tempDir } from '../../test/support/model-source';
import { findModelRoot, unpackArchive } from './unpack';

let tmp: ReturnType<typeof tempDir>;
let into: string;
const roomy = { maxBytes: 50_000_000 };

beforeEach(() => {
  tmp = tempDir('specserve-unpack-');
  into = path.join(tmp.dir, 'into');
  mkdirSync(into);
});
afterEach(() => tmp.cleanUp());

describe('unpackArchive + findModelRoot', () => {
  it('unpacks files at the top of the archive', async () => {
    const { file } = await mnistArchive(tmp.dir);
    await unpackArchive(file, into, roomy);
    expect(readdirSync(into).sort()).toEqual([...MNIST_FILES].sort());
    expect(await findModelRoot(into)).toBe(into);
  });

  it('finds the model inside one top folder', async () => {
    const { file } = await mnistArchive(tmp.dir, { topFolder: 'mnist-v1' });
    await unpackArchive(file, into, roomy);
    expect(await findModelRoot(into)).toBe(path.join(into, 'mnist-v1'));
  });

  it('refuses an archive with a .. entry, and writes nothing outside', async () => {
    const { file } = await mnistArchive(tmp.dir, { extra: ['../evil.txt'], prepare: (pkg) => writeFileSync(path.join(pkg, '..', 'evil.txt'), 'x') });
    await expect(unpackArchive(file, into, roomy)).rejects.toThrow(/refused: "\.\.\/evil\.txt" climbs out of the folder with '\.\.'/);
    expect(existsSync(path.join(tmp.dir, 'evil.txt'))).toBe(false);
  });

  it('refuses an absolute path', async () => {
    const outside = path.join(tmp.dir, 'outside.txt');
    writeFileSync(outside, 'x');
    const { file } = await mnistArchive(tmp.dir, { extra: [outside] });
    await expect(unpackArchive(file, into, roomy)).rejects.toThrow(/is an absolute path/);
  });

  it('refuses symbolic links', async () => {
    const { file } = await mnistArchive(tmp.dir, { extra: ['passwd'], prepare: (pkg) => symlinkSync('/etc/passwd', path.join(pkg, 'passwd')) });
    await expect(unpackArchive(file, into, roomy)).rejects.toThrow(/"passwd" is a SymbolicLink entry; only plain files and folders are unpacked/);
    expect(readdirSync(into)).toEqual([]); // refused before the files ahead of the link were written
  });

  it('stops at the unpacked-size cap', async () => {
    const { file } = await mnistArchive(tmp.dir);
    await expect(unpackArchive(file, into, { maxBytes: 1_000_000 })).rejects.toThrow(/more than 1000000 bytes once unpacked/);
    expect(readdirSync(into)).toEqual([]);
  });

  it('refuses what is not a tar archive', async () => {
    const file = path.join(tmp.dir, 'page.tar.gz');
    writeFileSync(file, '<html>Not found</html>');
    await expect(unpackArchive(file, into, roomy)).rejects.toThrow(/archive page\.tar\.gz refused/);
  });

  it('finds an ONNX model (model.onnx) inside one top folder', async () => {
    mkdirSync(path.join(into, 'resnet'));
    writeFileSync(path.join(into, 'resnet', 'model.onnx'), 'x');
    expect(await findModelRoot(into)).toBe(path.join(into, 'resnet'));
  });

  it('says what it found when there is no model.json', async () => {
    writeFileSync(path.join(into, 'README'), 'x');
    mkdirSync(path.join(into, 'weights'));
    await expect(findModelRoot(into)).rejects.toThrow('the archive has no model.json or model.onnx at its top or inside one top folder (it holds: README, weights)');
  });
});
