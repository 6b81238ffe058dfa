import path from 'node:path';
import express, { type Router } from 'express';
import { PROJECT_ROOT } from '../paths';

/** The browser pages' folder: plain HTML, CSS and ES modules, served as they are (no build step). */
export const WEB_DIR = path.join(PROJECT_ROOT, 'web');

/** Files of a package in node_modules that the pages import (uPlot's ES module and CSS). */
const UPLOT_DIR = path.dirname(require.resolve('uplot/dist/uPlot.esm.js'));

/**
 * GET /demo and /dashboard, their assets under /web/ and uPlot under /vendor/uplot/. Every asset
 * comes from this server, so helmet's CSP (scripts from 'self' only, no inline scripts) holds.
 * The pages are open; the API calls they make carry the key a user types in when the server
 * asks for one.
 */
export function webPages(): Router {
  const router = express.Router();
  const page = (file: string) => (_req: express.Request, res: express.Response) => res.sendFile(path.join(WEB_DIR, file));
  router.get('/demo', page('demo.html'));
  router.get('/dashboard', page('dashboard.html'));
  router.use('/web', express.static(WEB_DIR, { index: false, redirect: false }));
  router.use('/vendor/uplot', express.static(UPLOT_DIR, { index: false, redirect: false }));
  return router;
}
