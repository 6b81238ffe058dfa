import type { RequestHandler } from 'express';
import multer from 'multer';
import { BadRequest, PayloadTooLarge } from '../errors/errors';
import { declaredMediaTypes } from './matched-operation';

/** Room for multipart boundaries and part headers on top of the file itself. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/** The largest request body any route accepts: one file of `maxUploadBytes` in its multipart wrapping. */
export function largestBody(maxUploadBytes: number): number {
  return maxUploadBytes + MULTIPART_OVERHEAD_BYTES;
}

/**
 * Parses multipart bodies into memory with hard limits, before the spec validator runs (the
 * validator is told not to upload; this gives each multer failure its own precise status):
 * one file of at most `maxBytes`, a few small text fields, no empty file.
 */
export function uploads(maxBytes: number): RequestHandler {
  const parse = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 11, headerPairs: 100 },
  }).any();

  return (req, res, next) => {
    // Only for operations that take multipart: a JSON route's body is the JSON parser's (json-bodies.ts).
    if (!req.is('multipart/form-data') || !declaredMediaTypes(req).includes('multipart/form-data')) return next();
    // Refuse a declared oversize body before reading any of it.
    const declared = Number(req.headers['content-length']);
    if (declared > largestBody(maxBytes)) {
      res.setHeader('Connection', 'close');
      return next(tooLarge(maxBytes));
    }
    parse(req, res, (err: unknown) => {
      if (err) return next(uploadError(err, maxBytes));
      const files = (req.files ?? []) as Express.Multer.File[];
      for (const file of files) {
        if (file.size === 0) return next(new BadRequest(`The file in field '${file.fieldname}' is empty (0 bytes).`));
        // The validator checks the body against the schema, where a file field is a binary
        // string: mark it present (as the validator's own uploader does).
        (req.body as Record<string, unknown>)[file.fieldname] = '';
      }
      next();
    });
  };
}

function tooLarge(maxBytes: number): PayloadTooLarge {
  return new PayloadTooLarge(`The upload exceeds the limit of ${maxBytes} bytes (MAX_UPLOAD_BYTES).`);
}

function uploadError(err: unknown, maxBytes: number): Error {
  if (err instanceof multer.MulterError) {
    switch (err.code) {
      case 'LIMIT_FILE_SIZE':
        return tooLarge(maxBytes);
      case 'LIMIT_FILE_COUNT':
        return new BadRequest('Send exactly one file per request.');
      case 'LIMIT_PART_COUNT':
      case 'LIMIT_FIELD_COUNT':
        return new BadRequest('Too many form fields; send one file field.');
      default:
        return new BadRequest(`Malformed multipart body: ${err.message}.`);
    }
  }
  // busboy's parse errors ("Unexpected end of form", "Malformed part header", ...) are client errors.
  return new BadRequest(`Malformed multipart body: ${(err as Error).message}.`);
}
