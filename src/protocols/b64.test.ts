import { decodeBase64 } from './b64';

describe('decodeBase64', () => {
  it('decodes the standard and URL-safe alphabets, with or without padding', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x01]);
    expect(decodeBase64(bytes.toString('base64'), 'x')).toEqual(bytes);
    expect(decodeBase64(bytes.toString('base64url'), 'x')).toEqual(bytes);
    expect(decodeBase64(`${bytes.toString('base64').slice(0, 4)}\n${bytes.toString('base64').slice(4)}`, 'x')).toEqual(bytes);
  });

  it.each([['', /empty/], ['abc$', /not valid base64/], ['a', /not valid base64/], ['ab=c', /not valid base64/]])(
    'refuses %j with a 400',
    (text, message) => {
      expect(() => decodeBase64(text, 'instances[0]')).toThrow(message);
    },
  );
});
