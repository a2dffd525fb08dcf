import { Router } from 'express';

/**
 * `/console/`: the review console moved into the one web app (issue 24), behind the company sign-in, where no
 * bearer token is ever pasted into a page. Old bookmarks land on the app's review view; a filter a link carried
 * (`?approval_id=…`, `?actor=…`) is dropped: the app's review view is filtered in the page.
 */
export const CONSOLE_TARGET = '/app/#/review';

export function consoleRoutes(): Router {
  const router = Router();
  router.use('/console', (_req, res) => res.redirect(302, CONSOLE_TARGET));
  return router;
}
