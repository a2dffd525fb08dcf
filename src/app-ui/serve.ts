import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';

/** The web app's files: `src/app-ui/static` under tsx and jest, `dist/app-ui/static` once built (copied by the build script). */
export const STAFF_UI_DIR = path.join(__dirname, 'static');

/**
 * `/app/`: the web app (issues 17 and 24: applications, approvals, review), plain files with no build step. It holds
 * no secrets and is public; everything it shows comes from the public /v1 API through the browser's session cookie,
 * so a team's own front-end could do all it does. helmet's Content-Security-Policy (script-src 'self', no inline
 * script) applies, as `buildApp` sets it on every response.
 */
export function staffUiRoutes(dir: string = STAFF_UI_DIR): Router {
  if (!existsSync(path.join(dir, 'index.html')))
    throw new Error(`the web app's files are missing from ${dir}; run "npm run build"`);
  const router = Router();
  router.get('/app', (req, res, next) => (req.path === '/app' ? res.redirect(301, 'app/') : next()));
  router.use(
    '/app',
    express.static(dir, {
      index: 'index.html',
      redirect: false,
      dotfiles: 'ignore',
      setHeaders(res, file) {
        res.setHeader('Cache-Control', path.basename(file) === 'index.html' ? 'no-store' : 'no-cache');
      },
    }),
  );
  return router;
}
