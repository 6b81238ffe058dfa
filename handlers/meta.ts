import { type HandlerContext, Reply } from './context';

/** GET /openapi.json: the API document this server validates against. */
export async function getOpenApiJson(_params: Record<string, never>, { spec }: HandlerContext): Promise<object> {
  return spec.document;
}

/** GET /openapi.yaml: the same document, as written. */
export async function getOpenApiYaml(_params: Record<string, never>, { spec }: HandlerContext): Promise<Reply> {
  return new Reply(200, spec.yamlText, { 'Content-Type': 'application/yaml; charset=utf-8' });
}
