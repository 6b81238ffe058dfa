import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { WEB_DIR } from '../../src/api/web-pages';
import { expectProblem } from '../support/problem';
import { useTestService } from '../support/service';

const service = useTestService();

describe('/demo, /dashboard and their assets', () => {
  it('are served by the app under the strict CSP, with every script from the server itself', async () => {
    for (const page of ['/demo', '/dashboard']) {
      const res = await service.request.get(page);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toMatch(/script-src 'self';/);
      // No inline script (the CSP would block it) and nothing from another origin.
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(res.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
    for (const file of readdirSync(WEB_DIR).filter((f) => !f.endsWith('.html'))) {
      expect((await service.request.get(`/web/${file}`)).status).toBe(200);
    }
    expect((await service.request.get('/vendor/uplot/uPlot.esm.js')).headers['content-type']).toMatch(/javascript/);
  });

  it('static files carry an ETag a browser revalidates with (304), though API answers carry none', async () => {
    for (const file of ['/web/demo.js', '/vendor/uplot/uPlot.esm.js']) {
      const first = await service.request.get(file);
      expect(first.headers.etag).toEqual(expect.any(String));
      expect((await service.request.get(file).set('If-None-Match', first.headers.etag!)).status).toBe(304);
    }
    expect((await service.request.get('/models')).headers.etag).toBeUndefined();
  });

  it('the modules import only from this server', () => {
    for (const file of readdirSync(WEB_DIR).filter((f) => f.endsWith('.js'))) {
      const imports = [...readFileSync(path.join(WEB_DIR, file), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
      for (const specifier of imports) expect(specifier).toMatch(/^(\.\/|\/vendor\/)/);
    }
  });

  it('nothing outside web/ and uPlot: a path that climbs out is a 404 problem', async () => {
    for (const p of ['/web/..%2fpackage.json', '/web/../package.json', '/vendor/uplot/..%2f..%2fpackage.json', '/web', '/web/nope.js']) {
      expectProblem(await service.request.get(p), 404);
    }
  });
});
