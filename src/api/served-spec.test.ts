import yaml from 'js-yaml';
import { SPEC_FILE } from '../paths';
import { servedSpec, stripSecurityFromYaml, withoutSecurity, withProtectedMetrics } from './served-spec';
import { loadSpec, type OpenApiDocument } from './spec';

const spec = loadSpec(SPEC_FILE);

describe('the served API document', () => {
  it('is the file itself when access control is on', () => {
    expect(servedSpec(spec, { authEnabled: true, metricsAuth: false })).toBe(spec);
  });

  it('declares no security when access control is off, and its YAML keeps the comments', () => {
    const served = servedSpec(spec, { authEnabled: false, metricsAuth: false });
    expect(spec.document.security).toBeDefined();
    expect(served.document.security).toBeUndefined();
    expect(served.document.components?.securitySchemes).toBeUndefined();
    expect(JSON.stringify(served.document)).not.toMatch(/"security"/);
    expect(yaml.load(served.yamlText)).toEqual(served.document);
    // Edited line by line, not re-dumped: the file's comments are still there.
    expect(served.yamlText).toContain('# ---- The seed tutorials');
    expect(served.yamlText).not.toMatch(/^\s*security:/m);
  });

  it('falls back to a YAML dump when the text cannot be edited line by line', () => {
    const odd = { ...spec, yamlText: spec.yamlText.replace('    Swagger UI for this document', '    security: a line of prose that looks like a key\n    Swagger UI for this document') };
    const served = servedSpec({ ...odd, document: yaml.load(odd.yamlText) as OpenApiDocument }, { authEnabled: false, metricsAuth: false });
    expect(yaml.load(served.yamlText)).toEqual(served.document);
    expect(served.yamlText).not.toContain('# ---- The seed tutorials'); // dumped
  });

  it('with METRICS_AUTH, /metrics loses its `security: []` opt-out and nothing else changes', () => {
    const document = {
      ...spec.document,
      paths: { ...spec.document.paths, '/metrics': { get: { operationId: 'metrics.get', security: [], responses: { '200': { description: 'ok' } } } } },
    } as OpenApiDocument;
    const protectedDoc = withProtectedMetrics(document);
    expect(protectedDoc.paths['/metrics']?.get?.security).toBeUndefined();
    expect(protectedDoc.paths['/v2/health/live']?.get?.security).toEqual([]);
    const served = servedSpec({ ...spec, document }, { authEnabled: true, metricsAuth: true });
    expect(yaml.load(served.yamlText)).toEqual(served.document);
    // Off wins: no key configured, so nothing is protected whatever METRICS_AUTH says.
    expect(servedSpec({ ...spec, document }, { authEnabled: false, metricsAuth: true }).document).toEqual(withoutSecurity(document));
  });

  it('stripSecurityFromYaml removes the blocks with their items and keeps the rest', () => {
    const text = ['a: 1', 'security:', '- x: []', '  # note', 'b:', '  security: []  # open', '  c: 2', '  securitySchemes:', '    s: {}', '', '  d: 3'].join('\n');
    expect(stripSecurityFromYaml(text)).toBe(['a: 1', 'b:', '  c: 2', '', '  d: 3'].join('\n'));
  });
});
