import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seriousViolations } from '../helpers/axe';
import { describeInBrowser, launchChromium, screenshotPath } from '../helpers/browser';
import { startWithSignIn, type SignInSetup } from '../helpers/sign-in';
import { allEntries } from '../helpers/audit';
import { signToken, TEST_ISSUER } from '../helpers/tokens';

/**
 * The one web app at /app/ (issue 24) in Chromium against the real gateway (helmet's CSP), the development IdP's
 * real login page, a real Postgres and the simulator: a team member asks to delete an application, a second
 * person sees who asked (verified) and what (the application's name) and approves it; a request made with a token
 * whose `name` claim is forged shows its real subject; an auditor reaches the review view through the IdP, sees no
 * Approve button and no error; destroying asks first. One browser for the file, a context per person.
 */
describeInBrowser("the web app's browser test")('the web app at /app/', () => {
  let setup: SignInSetup;
  let browser: Browser;
  const gatewayUrl = () => setup.gateways[0]!.gatewayUrl;
  const simulator = () => setup.gateways[0]!.simulator;

  beforeAll(async () => {
    setup = await startWithSignIn({ env: { AUDIT_READS_PER_CALLER: '1' } });
    browser = await launchChromium('the web app');
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
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    context.setDefaultTimeout(8_000);
    await context.addInitScript(
      'document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective}`))',
    );
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => {
      if ((msg.type() !== 'error' && msg.type() !== 'warning') || !msg.location().url.startsWith(gatewayUrl())) return;
      problems.push(`console ${msg.type()}: ${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    return { context, page, problems };
  }

  /** Every view: axe-core finds no serious or critical violation, and its picture is taken (docs/images). */
  async function look(page: Page, view: string, fullPage = true) {
    expect({ view, violations: await seriousViolations(page) }).toEqual({ view, violations: [] });
    await page.screenshot({ path: screenshotPath(`app-${view}.png`), fullPage });
  }

  /** Through the IdP's own login page, as a person does it; `path` is a deep link kept across the sign-in. */
  async function signIn(page: Page, login: string, path = '/app/') {
    const response = await page.goto(`${gatewayUrl()}${path}`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    if (login === 'admin') await look(page, 'sign-in', false);
    await page.getByRole('link', { name: 'Sign in with your company account' }).click();
    await page.waitForURL((url) => url.origin === setup.idp.issuer);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.waitForURL((url) => url.pathname === '/app/');
    await page.locator('#identity').waitFor({ state: 'visible' });
  }

  /** Closes the tabs; each must have logged no problem but the `expected` ones (Chromium logs every 4xx). */
  async function closeAll(tabs: Tab[], expected?: RegExp) {
    for (const tab of tabs) {
      await tab.context.close();
      expect(tab.problems.filter((p) => !expected?.test(p))).toEqual([]);
    }
  }

  test('when one admin asks to delete an application, then destroying asks first, and a second admin sees who asked and what, approves it, and the first sees it gone', async () => {
    const ada = await newTab();
    await signIn(ada.page, 'admin');
    await expect(ada.page.locator('#whoami').textContent()).resolves.toBe('Ada Admin');
    await expect(ada.page.locator('#verified-identity').textContent()).resolves.toContain(
      `verified: admin at ${setup.idp.issuer}`,
    );
    await ada.page.getByRole('link', { name: 'Test App 1' }).waitFor();
    await look(ada.page, 'applications');

    // Search by name, by keyboard.
    await ada.page.getByLabel('Search by name').focus();
    await ada.page.keyboard.type('app 2');
    await ada.page.keyboard.press('Enter');
    await ada.page.getByText('1 matching “app 2”').waitFor();
    await expect(ada.page.locator('#apps tbody a').allTextContents()).resolves.toEqual(['Test App 2']);

    await ada.page.getByRole('textbox', { name: 'Name', exact: true }).fill('Browser-made app');
    await ada.page.getByRole('button', { name: 'Create application' }).click();
    await ada.page.getByRole('heading', { name: 'Application Browser-made app' }).waitFor();
    const appId = (await ada.page.locator('#detail-id').textContent()) as string;
    expect(new URL(ada.page.url()).hash).toBe(`#/applications/${appId}`); // its own URL

    await ada.page.getByLabel('Webhook URL').fill('https://hooks.example.test/kloudless');
    await ada.page.getByRole('button', { name: 'Add webhook' }).click();
    const remove = ada.page.getByRole('button', { name: 'Remove webhook https://hooks.example.test/kloudless' });
    await remove.click();
    const dialog = ada.page.getByRole('dialog', { name: 'Remove this webhook?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await ada.page.locator('#detail-status').getByText('Kept the webhook.').waitFor();
    expect(simulator().store.listWebhooks(appId)).toHaveLength(1);
    await remove.click();
    await dialog.getByRole('button', { name: 'Remove webhook' }).click();
    await ada.page
      .locator('#detail-status')
      .getByText('Removed webhook https://hooks.example.test/kloudless.')
      .waitFor();
    expect(simulator().store.listWebhooks(appId)).toHaveLength(0);

    await ada.page.getByRole('button', { name: 'Create API key' }).click();
    await ada.page.locator('#detail-status').getByText('Created an API key.').waitFor();
    const keyEnd = simulator().store.listApiKeys(appId)![0]!.key.slice(-4);
    await ada.page.getByRole('button', { name: `Delete API key ending ${keyEnd}` }).click();
    await ada.page
      .getByRole('dialog', { name: 'Delete this API key?' })
      .getByRole('button', { name: 'Delete API key' })
      .click();
    await ada.page.locator('#detail-status').getByText(`Deleted the API key ending ${keyEnd}.`).waitFor();

    // The deletion asks for the application's name, typed. Keyboard only: type the reason, Enter, type the name in
    // the dialog (focused), Tab to its button, Enter.
    await ada.page.getByLabel('Reason (shown to approvers)').focus();
    await ada.page.keyboard.type('Replaced by the new billing app');
    await ada.page.keyboard.press('Enter');
    const confirmDelete = ada.page.getByRole('dialog', { name: 'Delete Browser-made app?' });
    const nameField = confirmDelete.getByLabel("Type the application's name, Browser-made app, to confirm");
    const go = confirmDelete.getByRole('button', { name: 'Request deletion' });
    await nameField.waitFor();
    await expect(go.isDisabled()).resolves.toBe(true);
    await ada.page.keyboard.type('Browser-made');
    await ada.page.keyboard.press('Enter'); // the default button is still disabled: nothing happens
    await expect(go.isDisabled()).resolves.toBe(true);
    await expect(nameField.isVisible()).resolves.toBe(true);
    await ada.page.keyboard.type(' app');
    await look(ada.page, 'confirm-deletion', false);
    await ada.page.keyboard.press('Tab');
    await expect(
      go.evaluate((b) => b === (b.ownerDocument as unknown as { activeElement: unknown }).activeElement),
    ).resolves.toBe(true);
    await ada.page.keyboard.press('Enter');
    await ada.page
      .locator('#detail-status')
      .getByText(/^Deleting Browser-made app is waiting for approval \(request [0-9a-f-]{36}\)\./)
      .waitFor();
    expect(simulator().store.getApplication(appId)).toBeDefined();
    await look(ada.page, 'application');

    const bo = await newTab();
    await signIn(bo.page, 'admin2', '/app/#/approvals'); // a deep link survives the sign-in
    const what = `Delete application “Browser-made app” (${appId})`;
    const request = bo.page.getByRole('article', { name: what });
    await request.getByText('Replaced by the new billing app').waitFor();
    await request.getByText(`Ada Admin (verified: admin at ${setup.idp.issuer}, ada@example.test)`).waitFor();
    await request.getByText('demo', { exact: true }).waitFor();
    await look(bo.page, 'approvals');
    // Keyboard only: the Approve button, named after the application, then Enter.
    await request.getByRole('button', { name: `Approve: ${what}` }).focus();
    await bo.page.keyboard.press('Enter');
    await request.getByRole('status').getByText('Approved and executed: the Management API answered 204.').waitFor();
    await request.getByText('executed', { exact: true }).waitFor();
    await expect(request.getByRole('button', { name: /^Approve/ }).count()).resolves.toBe(0);
    expect(simulator().store.getApplication(appId)).toBeUndefined();

    // The requester's page, still on the application, shows it gone once the tab is looked at again.
    await ada.page.evaluate('window.dispatchEvent(new Event("focus"))');
    await ada.page.getByRole('status').getByText('Browser-made app no longer exists: it was deleted.').waitFor();
    expect(new URL(ada.page.url()).hash).toBe('#/applications');

    // The requester's page asked for the application once more and learnt it was gone: that one 404.
    await closeAll(
      [ada, bo],
      new RegExp(`status of 404 \\(Not Found\\) \\(${gatewayUrl()}/v1/applications/${appId}\\)$`),
    );
  }, 90_000);

  test('when a token with a forged name asks, then the approver sees its real subject and denies it in the page; an auditor signed in through the IdP sees no Approve button, no error, and reviews the trail', async () => {
    const appId = simulator().store.createApplication({ name: 'Ledger export' }).id;
    await setup.gateways[0]!.deps.audit.recorder.recordOwnershipChange(undefined, {
      applicationId: appId,
      from: null,
      to: 'demo',
      via: 'local_default',
    });
    const mallory = signToken({ sub: 'mallory', roles: ['admin'], claims: { name: 'Ada Admin', teams: ['demo'] } });
    const asked = await fetch(`${gatewayUrl()}/v1/applications/${appId}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${mallory}` },
    });
    expect(asked.status).toBe(202);
    const approvalId = ((await asked.json()) as { approval: { id: string } }).approval.id;

    const bo = await newTab();
    await signIn(bo.page, 'admin2', `/app/#/approvals/${approvalId}`);
    const what = `Delete application “Ledger export” (${appId})`;
    const request = bo.page.getByRole('article', { name: what });
    // The display name is the one the token chose; the verified subject beside it is the truth.
    await request.getByText(`Ada Admin (verified: mallory at ${TEST_ISSUER})`).waitFor();
    // A reason is required, in the page: none (the browser's own check) or blanks (the app's) sends nothing.
    await request.getByRole('button', { name: `Deny: ${what}` }).click();
    await expect(
      request
        .getByLabel('Reason for denying (required)')
        .evaluate((input) => (input as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing),
    ).resolves.toBe(true);
    await request.getByLabel('Reason for denying (required)').fill('   ');
    await request.getByRole('button', { name: `Deny: ${what}` }).click();
    await request.getByRole('status').getByText('Say why you deny it.').waitFor();
    expect((await allEntries(setup.gateways[0]!)).filter((e) => e.operation === 'approval.deny')).toEqual([]);
    await request.getByLabel('Reason for denying (required)').fill('not a request from the real Ada');
    await request.getByLabel('Reason for denying (required)').press('Enter');
    await bo.page.locator('#approvals-status').getByText(`Denied: ${what} will not run.`).waitFor();
    expect(simulator().store.getApplication(appId)).toBeDefined();

    const auditor = await newTab();
    await signIn(auditor.page, 'auditor');
    await auditor.page.getByRole('heading', { name: 'Review the audit trail' }).waitFor();
    await auditor.page
      .locator('#review-status')
      .getByText(/events? shown/)
      .waitFor();
    await expect(auditor.page.locator('#nav-applications').isHidden()).resolves.toBe(true);
    await expect(auditor.page.locator('main').textContent()).resolves.not.toMatch(/Not done|do not allow/);

    await auditor.page.getByRole('link', { name: 'Approvals' }).click();
    await auditor.page.locator('#approvals-state').selectOption('');
    await auditor.page.getByRole('button', { name: 'Show', exact: true }).click();
    await auditor.page.getByRole('article', { name: what }).getByText('denied').waitFor();
    await expect(auditor.page.getByRole('button', { name: /^Approve/ }).count()).resolves.toBe(0);
    await expect(auditor.page.getByRole('button', { name: /^Deny/ }).count()).resolves.toBe(0);
    expect(await seriousViolations(auditor.page)).toEqual([]); // the same view, as an auditor sees it

    // The reviewer's own reads (each search above is one) are hidden unless asked for, and labelled as reads.
    await auditor.page.getByRole('link', { name: 'Review' }).click();
    await auditor.page.getByRole('button', { name: 'Search' }).click();
    await auditor.page
      .locator('#review-status')
      .getByText(/^\d+ events? shown; [1-9]\d* of your own reads hidden\.$/)
      .waitFor();
    expect(await auditor.page.locator('#events tbody tr', { hasText: /^.*Read: audit\./ }).count()).toBe(0);
    await auditor.page.getByLabel('Show my own reads').check();
    await auditor.page.getByRole('button', { name: 'Search' }).click();
    await auditor.page.locator('#events tbody tr', { hasText: 'Read: audit.query' }).first().waitFor();
    await auditor.page.getByLabel('Show my own reads').uncheck();
    await auditor.page.getByLabel('Application id').fill(appId);
    await auditor.page.getByLabel('Application id').press('Enter');
    await auditor.page
      .locator('#review-status')
      .getByText(/^\d+ events? shown\.$/)
      .waitFor();
    const rows = (await auditor.page.locator('#events tbody tr').allTextContents()).join('\n');
    expect(rows).toContain('approval.deny');
    expect(rows).toContain(`Ada Admin (verified: mallory at ${TEST_ISSUER})`);
    await look(auditor.page, 'review');

    const first = auditor.page.locator('#events tbody a').first();
    const sequence = /^Event (\d+)/.exec((await first.getAttribute('aria-label')) as string)![1];
    await first.click();
    expect(new URL(auditor.page.url()).hash).toBe(`#/review/events/${sequence}`);
    await auditor.page.getByRole('heading', { name: new RegExp(`^Event ${sequence}:`) }).waitFor();
    await look(auditor.page, 'review-event');

    await auditor.page.getByRole('button', { name: 'Verify the trail' }).click();
    await auditor.page
      .locator('#review-status')
      .getByText(/^The trail verifies: \d+ entries, unbroken\.$/)
      .waitFor();
    const download = auditor.page.waitForEvent('download');
    await auditor.page.getByRole('button', { name: 'Export CSV' }).click();
    expect((await download).suggestedFilename()).toBe('audit-events.csv');

    // The old console's address lands on the review view, signed in through the IdP: no token is pasted.
    await auditor.page.goto(`${gatewayUrl()}/console/`);
    await auditor.page.waitForURL(`${gatewayUrl()}/app/#/review`);
    await auditor.page.getByRole('heading', { name: 'Review the audit trail' }).waitFor();
    await expect(auditor.page.locator('input[type="password"], #token').count()).resolves.toBe(0);

    await closeAll([bo, auditor]);
  }, 90_000);
});
