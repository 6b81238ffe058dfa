import { jimpOf, solidImage } from '../support/images';
import { pngClaiming } from '../support/png-bytes';
import { expectProblem } from '../support/problem';
import { fixture, useTestService } from '../support/service';

const service = useTestService();

const classify = () => service.request.post('/mnist/classify');
const seven = () => fixture('mnist', '7.png');

describe('bad uploads to POST /mnist/classify get a problem+json 4xx', () => {
  it('no file at all: 400 naming the missing field', async () => {
    const res = await classify().field('note', 'no file here');
    const body = expectProblem(res, 400);
    expect(JSON.stringify(body)).toMatch(/file/);
  });

  it('an empty multipart body: 400', async () => {
    const res = await classify().set('Content-Type', 'multipart/form-data; boundary=xyz').send('--xyz--\r\n');
    expectProblem(res, 400);
  });

  it('"file" sent as a text field instead of a file: 400', async () => {
    const res = await classify().field('file', 'not a file');
    expect(expectProblem(res, 400).detail).toMatch(/'file' must be a file/);
  });

  it('wrong field name: 400', async () => {
    const res = await classify().attach('image', seven(), '7.png');
    expectProblem(res, 400);
  });

  it('two files: 400', async () => {
    const res = await classify().attach('file', seven(), 'a.png').attach('file', seven(), 'b.png');
    expect(expectProblem(res, 400).detail).toMatch(/exactly one file/);
  });

  it('an empty file: 400', async () => {
    const res = await classify().attach('file', Buffer.alloc(0), 'empty.png');
    expect(expectProblem(res, 400).detail).toMatch(/empty/);
  });

  it('text bytes named .png: 415 listing the accepted formats', async () => {
    const res = await classify().attach('file', Buffer.from('hello, this is not an image\n'), 'digit.png');
    const body = expectProblem(res, 415);
    expect(body.acceptedFormats).toEqual(expect.arrayContaining(['png', 'jpeg']));
  });

  it('a PSD image: 415 naming the format', async () => {
    // 8BPS header: enough for format detection (WebP, AVIF and HEIC are accepted: photo-formats.test.ts).
    const psd = Buffer.concat([Buffer.from('8BPS'), Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 10, 0, 0, 0, 10, 0, 8, 0, 3])]);
    const res = await classify().attach('file', psd, 'digit.psd');
    expect(expectProblem(res, 415).detail).toMatch(/PSD/);
  });

  it('a truncated PNG: 400', async () => {
    const png = await solidImage('image/png', 64, 64, 0x336699ff);
    const res = await classify().attach('file', png.subarray(0, Math.floor(png.length / 2)), 'cut.png');
    expectProblem(res, 400);
  });

  it('a PNG cut inside its image data: 400 that says so in plain words, not the decoder\'s', async () => {
    const res = await classify().attach('file', seven().subarray(0, 60), 'cut.png');
    expect(expectProblem(res, 400).detail).toBe('The PNG data could not be decoded: the file is truncated or corrupt.');
  });

  it('a truncated small JPEG (jpeg-js on either decoder, see codec-rule.ts): 400', async () => {
    const jpeg = await (await jimpOf(seven())).resize({ w: 200, h: 200 }).getBuffer('image/jpeg');
    const res = await classify().attach('file', jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'cut.jpg');
    expectProblem(res, 400);
  });

  it('a 1x1 image: 422', async () => {
    const res = await classify().attach('file', await solidImage('image/png', 1, 1, 0x000000ff), 'dot.png');
    expect(expectProblem(res, 422).detail).toMatch(/1x1/);
  });

  it('a blank image: 422', async () => {
    const res = await classify().attach('file', await solidImage('image/png', 64, 64, 0xffffffff), 'blank.png');
    expectProblem(res, 422);
  });

  it('huge pixel dimensions in a small file: 413 before decoding', async () => {
    const bomb = pngClaiming(100_000, 100_000);
    expect(bomb.length).toBeLessThan(200);
    const res = await classify().attach('file', bomb, 'bomb.png');
    expect(expectProblem(res, 413).detail).toMatch(/100000x100000/);
  });

  it('a 30 MB upload: 413 naming the limit', async () => {
    const res = await classify().attach('file', Buffer.alloc(30 * 1024 * 1024, 7), 'big.png');
    expect(expectProblem(res, 413).detail).toMatch(/10485760 bytes/);
  });

  it('JSON instead of multipart: 415', async () => {
    const res = await classify().send({ file: 'iVBORw0KGgo=' });
    expectProblem(res, 415);
  });

  it('a multipart body cut off mid-file: 400', async () => {
    const res = await classify()
      .set('Content-Type', 'multipart/form-data; boundary=xyz')
      .send('--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n');
    expectProblem(res, 400);
  });
});

describe('routing errors are problem+json too', () => {
  it('an unknown route: 404', async () => {
    expectProblem(await service.request.get('/no/such/route'), 404);
  });

  it('a wrong method: 405 with Allow', async () => {
    const res = await service.request.get('/mnist/classify');
    expectProblem(res, 405);
    expect(res.headers.allow).toBe('POST');
  });
});

describe('after all of that', () => {
  it('still classifies a good image', async () => {
    const res = await classify().attach('file', seven(), '7.png');
    expect(res.status).toBe(200);
    expect(res.body.digit).toBe(7);
  });
});
