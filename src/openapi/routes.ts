import { existsSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { buildOpenApiDocument } from './document';

/** swagger-ui-dist's standalone bundle: no `eval`, so it runs under helmet's default policy (`script-src 'self'`). */
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/**
 * The page's start-up code, served as a file of its own because the Content-Security-Policy allows no inline
 * script. Kept here rather than in a static folder: tsc does not copy non-TypeScript files into dist/.
 */
const INIT_JS = `'use strict';
window.ui = SwaggerUIBundle({
  url: 'openapi.json',
  dom_id: '#reference',
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  deepLinking: true,
  displayOperationId: true,
  displayRequestDuration: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  filter: true,
  // Never send the document to the public validator, and never load another document named in ?url=.
  validatorUrl: null,
  queryConfigEnabled: false,
  // A pasted token lives in this tab's memory only.
  persistAuthorization: false,
});
`;

const DOCS_CSS = `body { margin: 0; background: #fafafa; }
#reference noscript { display: block; max-width: 60rem; margin: 2rem auto; font-family: sans-serif; }
`;

// Relative URLs (`docs/assets/…`, `openapi.json`), so the page also works behind a path-prefixing proxy.
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API reference · Kloudless Management Gateway</title>
  <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
  <link rel="stylesheet" href="docs/assets/docs.css">
</head>
<body>
  <main id="reference">
    <noscript>This reference page needs JavaScript. The OpenAPI document it shows is <a href="openapi.json">openapi.json</a>.</noscript>
  </main>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script src="docs/assets/docs.js"></script>
</body>
</html>
`;

type Asset = { file: string } | { text: string; type: string };

/** Exactly these files are served under /docs/assets/, never a path taken from the request. */
const ASSETS: Record<string, Asset> = {
  'swagger-ui-bundle.js': { file: path.join(SWAGGER_UI_DIR, 'swagger-ui-bundle.js') },
  'swagger-ui.css': { file: path.join(SWAGGER_UI_DIR, 'swagger-ui.css') },
  'favicon-32x32.png': { file: path.join(SWAGGER_UI_DIR, 'favicon-32x32.png') },
  'docs.js': { text: INIT_JS, type: 'text/javascript; charset=utf-8' },
  'docs.css': { text: DOCS_CSS, type: 'text/css; charset=utf-8' },
};

/**
 * `GET /openapi.json` and the readable reference at `GET /docs`, public like the review console (they hold no
 * secrets; calling anything they describe needs a token). Mount after helmet, before authentication.
 */
export function docsRoutes(options: { serverUrl?: string } = {}): Router {
  for (const asset of Object.values(ASSETS)) {
    if ('file' in asset && !existsSync(asset.file))
      throw new Error(`the API reference page's asset ${asset.file} is missing; run "npm install"`);
  }
  const document = JSON.stringify(buildOpenApiDocument(options));
  const router = Router();

  router.get('/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('application/json').send(document);
  });
  router.get('/docs', (req, res) => {
    // `/docs/` would resolve the page's relative URLs one level too deep.
    if (req.path !== '/docs') return res.redirect(301, '../docs');
    res.set('Cache-Control', 'no-cache').type('html').send(PAGE);
  });
  router.get('/docs/assets/:name', (req, res, next) => {
    const asset = Object.hasOwn(ASSETS, req.params.name) ? ASSETS[req.params.name] : undefined;
    if (!asset) return next();
    // no-cache: revalidated (ETag, Last-Modified), so an upgraded bundle is picked up at once.
    if ('file' in asset) return res.sendFile(asset.file, { headers: { 'Cache-Control': 'no-cache' } });
    res.set('Cache-Control', 'no-cache').type(asset.type).send(asset.text);
  });
  return router;
}
