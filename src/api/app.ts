import cors from 'cors';
import express, { type Express, type RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import type { HandlerContext } from '../../handlers/context';
import type { Config } from '../config';
import { createAccessControl } from './auth';
import { webPages } from './web-pages';
import { dispatch } from './dispatch';
import { notFound, problemResponse } from './problem-response';
import { inRequestContext, reenterRequestContext, REQUEST_ID_HEADER, requestContext, requestLog } from './request-log';
import type { BoundOperation } from './resolver';
import { servedSpec } from './served-spec';
import type { ApiSpec } from './spec';
import { BodyBudget, inflightBodies } from './inflight';
import { headAsGet } from './head';
import { jsonBodies } from './json-bodies';
import { largestBody, uploads } from './uploads';
import { cacheValidatorRouteMatchers } from './route-matcher-cache';

export interface AppOptions {
  spec: ApiSpec;
  operations: BoundOperation[];
  context: HandlerContext;
  maxUploadBytes: number;
  /** Bytes of request bodies the app may hold at once (MAX_INFLIGHT_BYTES); default: no limit. */
  bodyBudget?: BodyBudget;
  validateResponses: boolean;
  /** API keys (none: access control off) and whether /metrics needs one. Default: off. */
  auth?: Config['auth'];
  /** Browser origins CORS allows ('*': any; empty: CORS off). Default: off. */
  corsOrigins?: Config['corsOrigins'];
  /** Times every request for the metrics (src/metrics/http.ts). Default: none. */
  requestMetrics?: RequestHandler;
}

/**
 * Security headers. Swagger UI (/ui) loads only its own files: scripts from 'self' (its start-up
 * code is swagger-ui-init.js, not inline), inline styles ('unsafe-inline': its page has <style>
 * blocks and style attributes), data: images (its icons), fetches to 'self' (Try it out). No
 * upgrade-insecure-requests and no HSTS: the server speaks plain HTTP and TLS is a proxy's job,
 * where those belong; here they would break /ui opened at http://<host>:<port>.
 */
const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'self'"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'", 'data:'],
      formAction: ["'self'"],
      frameAncestors: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      objectSrc: ["'none'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
    },
  },
  strictTransportSecurity: false,
});

/** Headers a browser script may read from a cross-origin answer. */
const EXPOSED_HEADERS = [REQUEST_ID_HEADER, 'WWW-Authenticate', 'Retry-After', 'Allow'];

function corsFor(origins: Config['corsOrigins']): RequestHandler | undefined {
  if (origins !== '*' && origins.length === 0) return undefined;
  // Keys travel in headers, never cookies: no credentials mode, so '*' is safe to allow.
  return cors({ origin: origins === '*' ? '*' : [...origins], methods: ['GET', 'HEAD', 'POST'], exposedHeaders: EXPOSED_HEADERS, maxAge: 600 });
}

/**
 * The HTTP app, in order: request id, context and log line; security headers; CORS (its preflight
 * answers OPTIONS before the validator would call it a 405); the in-flight body budget; Swagger
 * UI; route matching against the spec (unknown path 404, wrong method 405); access control; upload
 * parsing; validation; the bound handlers; one problem+json error exit. Routes come only from the
 * spec.
 */
export function createApp({
  spec: fileSpec,
  operations,
  context,
  maxUploadBytes,
  bodyBudget = new BodyBudget(Number.POSITIVE_INFINITY),
  validateResponses,
  auth = { apiKeys: [], metricsAuth: false },
  corsOrigins = [],
  requestMetrics,
}: AppOptions): Express {
  const authEnabled = auth.apiKeys.length > 0;
  const spec = servedSpec(fileSpec, { authEnabled, metricsAuth: auth.metricsAuth });
  const access = authEnabled ? createAccessControl(spec.document, auth.apiKeys) : undefined;

  const app = express();
  app.disable('x-powered-by');
  // No ETag on handler answers: they are computed per request (predictions, live status), so
  // Express's default hash of every response body was wasted main-thread work (7.5-10 us of the
  // 420-510 us a classify request costs it, in CPU profiles at c=16). Static files (/ui, /demo)
  // keep the ETags their file server sets.
  app.set('etag', false);
  app.use(requestContext(), requestLog(), securityHeaders);
  // Before everything that may refuse a request, so refusals are timed too.
  if (requestMetrics) app.use(requestMetrics);
  const allowOrigins = corsFor(corsOrigins);
  if (allowOrigins) app.use(allowOrigins);
  // Before anything reads a body: a request over the budget is refused unread.
  app.use(inflightBodies(bodyBudget, largestBody(maxUploadBytes)));
  app.use(headAsGet());

  // serveFiles, not serve: `serve` shares one swagger-ui-init.js among every app in the process.
  const uiOptions: swaggerUi.SwaggerUiOptions = {
    customSiteTitle: 'specserve API',
    // Keys entered with Authorize survive a reload; no call to the public online validator.
    swaggerOptions: { persistAuthorization: true, validatorUrl: null },
  };
  app.use('/ui', swaggerUi.serveFiles(spec.document, uiOptions), swaggerUi.setup(spec.document, uiOptions));
  // The demo and dashboard pages (web/), outside the API document like /ui.
  app.use(webPages());

  cacheValidatorRouteMatchers();
  const validator = OpenApiValidator.middleware({
    // The validator may annotate the document it is given; it gets its own copy.
    apiSpec: structuredClone(spec.document),
    validateApiSpec: false, // loadSpec already checked it, at start-up
    validateRequests: { allowUnknownQueryParameters: false },
    validateResponses,
    validateSecurity: false, // auth.ts enforces the document's `security`, before any body is read
    fileUploader: false, // `uploads` did it, with limits and precise errors
  });
  // The validator's chain is split after its route matching, so that 404/405 and access control
  // come before an upload is read. Its steps are named functions; fail at start-up if that changes.
  const matched = validator.findIndex((step) => step.name === 'metadataMiddleware');
  if (matched < 0) throw new Error('express-openapi-validator: no metadataMiddleware step in its chain (see src/api/app.ts)');
  app.use(validator.slice(0, matched + 1) as RequestHandler[]);
  if (access) app.use(access.operations);

  app.use(uploads(maxUploadBytes));
  app.use(jsonBodies(spec.document, maxUploadBytes));
  app.use(reenterRequestContext());
  app.use(validator.slice(matched + 1) as RequestHandler[]);
  app.use(dispatch(spec.document, operations, { ...context, spec: { document: spec.document, yamlText: spec.yamlText } }));
  app.use(notFound);
  app.use(inRequestContext(problemResponse));
  return app;
}
