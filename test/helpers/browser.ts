import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, driven by playwright-core (which never downloads a browser of its own). In CI a missing
 * Chromium fails the suite; elsewhere the browser tests are skipped, loudly.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const INSTALL_HINT = 'install it with: apt-get update && apt-get install -y chromium';
export const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';

/** `describe`, or `describe.skip` with a warning when Chromium is missing outside CI. */
export function describeInBrowser(what: string): jest.Describe {
  if (!haveChromium && !inCi) console.warn(`Skipping ${what}: ${CHROMIUM} is missing; ${INSTALL_HINT}`);
  return haveChromium || inCi ? describe : describe.skip;
}

export function launchChromium(what: string): Promise<Browser> {
  if (!haveChromium)
    throw new Error(`CI=true but ${CHROMIUM} is missing, so ${what} cannot be tested; ${INSTALL_HINT}`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright-core gives every launch a fresh, temporary user-data dir of its own.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Screenshots go to test-output/; with UPDATE_DOCS_IMAGES=1, to docs/images/ where the README shows them. */
export function screenshotPath(name: string): string {
  return join(__dirname, '..', '..', process.env.UPDATE_DOCS_IMAGES ? join('docs', 'images') : 'test-output', name);
}
