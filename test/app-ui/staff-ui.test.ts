import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describeInBrowser, launchChromium, screenshotPath } from '../helpers/browser';
import { startWithSignIn, type SignInSetup } from '../helpers/sign-in';
import { allEntries } from '../helpers/audit';
import { tokenFor } from '../helpers/tokens';

/**
 * The staff UI in Chromium against the real gateway (helmet's CSP), the development IdP's real login page, a
 * real Postgres and the simulator: two people, one asks to delete an application, the other approves it, and the
 * auditors' console shows what happened.
 */
describeInBrowser("the staff UI's browser test")('the staff UI at /app/', () => {
  let setup: SignInSetup;
  let browser: Browser;
  const gatewayUrl = () => setup.gateways[0]!.gatewayUrl;

  beforeAll(async () => {
    // One audit read at a time per caller: the console's own reads (events, approvals, a search typed meanwhile) must
    // take turns rather than fail (the full suite's load made them collide at the default of 2).
    setup = await startWithSignIn({ env: { AUDIT_READS_PER_CALLER: '1' } });
    browser = await launchChromium('the staff UI');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await setup?.close();
  });

  interface Tab {
    context: BrowserContext;
    page: Page;
    problems: string[];
  }

  /** A fresh browser profile (its own cookies) that records console errors and CSP violations on gateway pages. */
  async function newTab(): Promise<Tab> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(8_000);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => {
      // The IdP's development login page asks for a web font; offline, that fails on the IdP's origin, not ours.
      if ((msg.type() !== 'error' && msg.type() !== 'warning') || !msg.location().url.startsWith(gatewayUrl())) return;
      // With one audit read at a time, the console's own reads may collide: the gateway answers 429 and the console
      // sends the read again after Retry-After (what this test checks it shows is the proof). Chromium logs each 429.
      const refusedRead = /^Failed to load resource: .* status of 429 /.test(msg.text());
      if (refusedRead && new URL(msg.location().url).pathname.startsWith('/v1/audit/')) return;
      problems.push(`console ${msg.type()}: ${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    return { context, page, problems };
  }

  /** Through the IdP's own login page, as a person does it. */
  async function signIn(page: Page, login: string) {
    const response = await page.goto(`${gatewayUrl()}/app/`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByRole('link', { name: 'Sign in with your company account' }).click();
    await page.waitForURL((url) => url.origin === setup.idp.issuer);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.waitForURL(`${gatewayUrl()}/app/`);
    await page.locator('#workspace').waitFor({ state: 'visible' });
  }

  test("when one admin creates an application, adds a webhook and asks to delete it, then a second admin approves it and the auditors' console shows it all", async () => {
    const ada = await newTab();
    await signIn(ada.page, 'admin');
    await expect(ada.page.locator('#whoami').textContent()).resolves.toBe('Ada Admin (admin; team demo)');
    await ada.page.getByRole('cell', { name: 'Test App 1' }).first().waitFor();

    await ada.page.getByLabel('Name', { exact: true }).first().fill('Browser-made app');
    await ada.page.getByLabel('Description').first().fill('Created in Chromium through the session');
    await ada.page.getByRole('button', { name: 'Create application' }).click();
    await ada.page.getByRole('heading', { name: 'Application Browser-made app' }).waitFor();
    const appId = (await ada.page.locator('#detail-id').textContent()) as string;
    expect(appId).toMatch(/^[A-Za-z0-9_-]+$/);

    await ada.page.getByLabel('Webhook URL').fill('https://hooks.example.test/kloudless');
    await ada.page.getByRole('button', { name: 'Add webhook' }).click();
    await ada.page.locator('#webhooks').getByText('https://hooks.example.test/kloudless').waitFor();
    await ada.page.locator('#apikeys li').first().waitFor();
    await ada.page.screenshot({ path: screenshotPath('staff-ui-application.png'), fullPage: true });

    await ada.page.getByLabel('Reason (shown to approvers)').fill('Replaced by the new billing app');
    await ada.page.getByRole('button', { name: 'Request deletion' }).click();
    await ada.page
      .getByRole('status')
      .getByText(/^Deleting Browser-made app is waiting for approval \(request [0-9a-f-]{36}\)\.$/)
      .waitFor();
    const what = `applications.delete of “Browser-made app” (${appId})`;
    const pending = ada.page.locator('#approvals li', { hasText: what });
    await pending.getByText('pending', { exact: true }).waitFor();
    await expect(pending.getByRole('button', { name: /^Approve/ }).count()).resolves.toBe(0); // not one's own
    await ada.page.screenshot({ path: screenshotPath('staff-ui-waiting-for-approval.png'), fullPage: true });
    expect(setup.gateways[0]!.simulator.store.listApplications().map((a) => a.id)).toContain(appId);

    const bo = await newTab();
    await signIn(bo.page, 'admin2');
    // The approver sees who asked, verified (subject at issuer) beside the display name, and the application's name.
    const request = bo.page.locator('#approvals li', { hasText: what });
    await request.getByText('Replaced by the new billing app').waitFor();
    await request.getByText(`asked by Ada Admin [admin at ${setup.idp.issuer}]`).waitFor();
    await request.getByRole('button', { name: `Approve ${what}` }).click();
    await bo.page
      .getByRole('status')
      .getByText(/is now executed\.$/)
      .waitFor();
    await bo.page.locator('#approvals li', { hasText: appId }).getByText('executed', { exact: true }).waitFor();
    await bo.page.screenshot({ path: screenshotPath('staff-ui-approved.png'), fullPage: true });
    expect(setup.gateways[0]!.simulator.store.listApplications().map((a) => a.id)).not.toContain(appId);

    // Signing out ends the session here and at the IdP, which sends the browser back to the UI.
    await bo.page.getByRole('button', { name: 'Sign out' }).click();
    await bo.page.getByRole('button', { name: /yes|sign.?out/i }).click();
    await bo.page.waitForURL(`${gatewayUrl()}/app/`);
    await bo.page.getByRole('link', { name: 'Sign in with your company account' }).waitFor();

    const auditor = await newTab();
    await auditor.page.goto(`${gatewayUrl()}/console/`);
    await auditor.page.getByLabel('Bearer token').fill(tokenFor('auditor'));
    await auditor.page.getByRole('button', { name: 'Sign in' }).click();
    await auditor.page.locator('#workspace').waitFor(); // signed in: the filters are live
    await auditor.page.getByLabel('Application id').fill(appId);
    await auditor.page.getByLabel('Application id').press('Enter');
    // The console's status line says what it found, or why not: shown if the wait fails.
    await auditor.page
      .getByRole('status')
      .getByText(/events? matching the filter/)
      .waitFor({ timeout: 20_000 })
      .catch(async (err: Error) => {
        const said = await auditor.page.locator('#status, #alert').allTextContents();
        throw new Error(`${err.message}\nthe console said: ${JSON.stringify(said)}`);
      });
    const text = (await auditor.page.locator('#events tbody').textContent()) as string;
    for (const seen of [
      'applications.create',
      'webhooks.create',
      'applications.delete',
      'approval.approve',
      'Ada Admin',
      'Bo Second-Admin',
    ])
      expect(text).toContain(seen);
    await auditor.page.screenshot({ path: screenshotPath('staff-ui-audit-console.png'), fullPage: true });

    // Every entry of a browser's own call says it came from a browser session (the approved execution is the
    // gateway acting for the requester, recorded with approval_granted and the approvers, not a browser call).
    const entries = (await allEntries(setup.gateways[0]!)).filter(
      (e) => e.applicationId === appId && e.actorSub !== null && e.reason !== 'approval_granted',
    );
    expect(entries.length).toBeGreaterThan(4);
    for (const e of entries)
      expect(e.details).toMatchObject({
        credential: 'browser_session',
        session_fingerprint: expect.stringMatching(/^hmac-sha256:/),
      });

    for (const tab of [ada, bo, auditor]) {
      await tab.context.close();
      expect(tab.problems).toEqual([]);
    }
  }, 90_000);
});
