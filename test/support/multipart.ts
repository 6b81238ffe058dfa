import { randomBytes } from 'node:crypto';

/**
 * One multipart/form-data body holding a single file, with the Content-Type header that names its
 * boundary. Built once, it can be sent unchanged by every request (autocannon sends a Buffer as is)
 * or written in pieces over a raw socket. Used by tests, the bench and the soak.
 */
export function multipartFile(field: string, filename: string, mime: string, data: Buffer): { body: Buffer; contentType: string } {
  const boundary = `----specserve-${randomBytes(12).toString('hex')}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${mime}\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head, 'utf8'), data, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8')]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
