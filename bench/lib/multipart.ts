import { randomBytes } from 'node:crypto';

/**
 * One multipart/form-data body holding a single file, built once and sent unchanged by every
 * request (autocannon sends a Buffer as is), with the Content-Type header that names its boundary.
 */
export function multipartFile(field: string, filename: string, mime: string, data: Buffer): { body: Buffer; contentType: string } {
  const boundary = `----specserve-bench-${randomBytes(12).toString('hex')}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${mime}\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head, 'utf8'), data, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8')]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
