import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';

/**
 * The review console's files. The same relative path holds under tsx and jest (`src/console/static`) and once
 * built (`dist/console/static`: the build script copies the folder, since tsc only emits TypeScript).
 */
export const CONSOLE_DIR = path.join(__dirname, 'static');

/**
 * `/console/`: the audit review console, plain files with no build step. It holds no secrets and is public;
 * everything it shows comes from `/v1/audit/*`, which needs a bearer token with `audit.read`. The files rely
 * on helmet's default Content-Security-Policy (no inline script or style), which `buildApp` applies to every
 * response, so the console must be mounted after helmet.
 */
export function consoleRoutes(dir: string = CONSOLE_DIR): Router {
  // Fail at start-up rather than answer 404 to every reviewer: a build that forgot to copy the folder.
  if (!existsSync(path.join(dir, 'index.html')))
    throw new Error(`the review console's files are missing from ${dir}; run "npm run build"`);

  const router = Router();
  // Relative, so the page's relative URLs (`console.js`, `../v1/…`) also resolve behind a path-prefixing proxy.
  router.get('/console', (req, res, next) => (req.path === '/console' ? res.redirect(301, 'console/') : next()));
  router.use(
    '/console',
    express.static(dir, {
      index: 'index.html',
      redirect: false,
      dotfiles: 'ignore',
      setHeaders(res, file) {
        // The page names its script and stylesheet; a cached page would pin an old pair after a deploy.
        res.setHeader('Cache-Control', path.basename(file) === 'index.html' ? 'no-store' : 'no-cache');
      },
    }),
  );
  return router;
}
