import express, { type Express } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import swaggerUi from 'swagger-ui-express';
import type { HandlerContext } from '../../handlers/context';
import { dispatch } from './dispatch';
import { notFound, problemResponse } from './problem-response';
import type { BoundOperation } from './resolver';
import type { ApiSpec } from './spec';
import { uploads } from './uploads';

export interface AppOptions {
  spec: ApiSpec;
  operations: BoundOperation[];
  context: HandlerContext;
  maxUploadBytes: number;
  validateResponses: boolean;
}

/**
 * The HTTP app: Swagger UI, then upload parsing, spec validation, the bound handlers, and one
 * problem+json error exit. Routes come only from the spec.
 */
export function createApp({ spec, operations, context, maxUploadBytes, validateResponses }: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');

  app.use('/ui', swaggerUi.serve, swaggerUi.setup(spec.document, { customSiteTitle: 'specserve API' }));

  app.use(uploads(maxUploadBytes));
  app.use(express.json({ limit: maxUploadBytes }));
  app.use(
    OpenApiValidator.middleware({
      // The validator may annotate the document it is given; it gets its own copy.
      apiSpec: structuredClone(spec.document),
      validateApiSpec: false, // loadSpec already checked it, at start-up
      validateRequests: { allowUnknownQueryParameters: false },
      validateResponses,
      fileUploader: false, // `uploads` did it, with limits and precise errors
    }),
  );
  app.use(dispatch(spec.document, operations, context));
  app.use(notFound);
  app.use(problemResponse);
  return app;
}
