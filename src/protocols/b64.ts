import { BadRequest } from '../errors/errors';

// Standard or URL-safe alphabet, padding optional (TF Serving clients send both). One character
// class, not an alternation of the two alphabets: their shared letters made `(a|b)*` backtrack
// exponentially on a string that fails to match, blocking the event loop for good (ReDoS).
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Strict base64 decoding: Buffer.from silently skips bad characters, which would hide client bugs. */
export function decodeBase64(text: string, where: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0) throw new BadRequest(`${where}: the b64 string is empty.`);
  if (!BASE64.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    throw new BadRequest(`${where}: the b64 string is not valid base64.`);
  }
  return Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
