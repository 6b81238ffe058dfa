/** Hand-built PNG files for tests and the soak script: chunks with correct lengths and CRCs. */
import { deflateSync } from 'node:zlib';
import { PNG_SIGNATURE as SIGNATURE_BYTES, pngChunk } from '../../src/images/png';

export const PNG_SIGNATURE = Buffer.from(SIGNATURE_BYTES);
export { pngChunk };

/** A valid 8-bit grayscale PNG header claiming width x height (correct CRCs) over a tiny IDAT. */
export function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(64))), pngChunk('IEND', Buffer.alloc(0))]);
}
