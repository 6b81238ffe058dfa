import type { OpenApiDocument } from './spec';
import { createAccessControl } from './auth';

const base = (extra: Partial<OpenApiDocument>): OpenApiDocument =>
  ({ openapi: '3.0.3', info: { title: 't', version: '1' }, paths: {}, ...extra }) as OpenApiDocument;

const schemes = { bearerAuth: { type: 'http', scheme: 'bearer' }, apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } as const;

describe('createAccessControl: start-up checks', () => {
  it('refuses a document without a top-level requirement: keys would protect nothing', () => {
    expect(() => createAccessControl(base({ components: { securitySchemes: schemes } }), ['k'])).toThrow(/no top-level `security` requirement/);
  });

  it('refuses a requirement naming an undefined scheme', () => {
    const document = base({
      components: { securitySchemes: schemes },
      security: [{ bearerAuth: [] }],
      paths: { '/x': { get: { security: [{ oauth: [] }], responses: {} } } },
    });
    expect(() => createAccessControl(document, ['k'])).toThrow(/GET \/x requires security scheme 'oauth'/);
  });

  it('refuses a scheme it cannot check with API keys', () => {
    const document = base({ components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } }, security: [{ basic: [] }] });
    expect(() => createAccessControl(document, ['k'])).toThrow(/security scheme 'basic' is not supported/);
  });

  it('accepts the shipped schemes', () => {
    expect(() => createAccessControl(base({ components: { securitySchemes: schemes }, security: [{ bearerAuth: [] }, { apiKeyHeader: [] }] }), ['k'])).not.toThrow();
  });
});
