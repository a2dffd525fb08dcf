import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describeInBrowser, launchChromium, screenshotPath } from '../helpers/browser';
import { deleteWithApproval } from '../helpers/approvals';
import { startHarness, type Harness } from '../helpers/harness';
import { DEFAULT_POLICY } from '../../src/policy/default-policy';
import { signToken, TEST_ISSUER, tokenFor } from '../helpers/tokens';

/** The review console in a real browser against the real gateway with helmet's Content-Security-Policy, a real Postgres and the simulator. */
const SCREENSHOT = screenshotPath('console.png');
const APPROVALS_SCREENSHOT = screenshotPath('console-approvals.png');

/** The built-in policy and one role more: release managers may delete (so approve deleting) their teams' applications, and hold no audit.read. */
const POLICY_FILE = path.join(mkdtempSync(path.join(tmpdir(), 'gw-console-')), 'policy.json');
writeFileSync(
  POLICY_FILE,
  JSON.stringify({
    ...DEFAULT_POLICY,
    roles: {
      ...DEFAULT_POLICY.roles,
      'release-manager': { scope: 'team', allow: ['applications.list', 'applications.get', 'applications.delete'] },
    },
  }),
);

describeInBrowser("the review console's browser test")('the audit review console', () => {
  let h: Harness;
  let browser: Browser;
  let auditor: string;
  let appId: string;
  let apiKey: string;
  let teamAppId: string;
  const requestedUrls: string[] = [];
  const ada = signToken({
    sub: 'ada',
    roles: ['admin'],
    claims: { name: 'Ada Lovelace', email: 'ada@example.com', teams: ['billing'] },
  });
  const grace = signToken({
    sub: 'grace',
    roles: ['admin'],
    claims: { name: 'Grace Hopper', email: 'grace@example.com', teams: ['billing'] },
  });
  /** Deletes Ada asked for and nobody has approved yet: [application id, approval id]. */
  const pending: Record<'legacy' | 'dashboard' | 'ledger', { appId: string; approvalId: string }> = {} as never;

  beforeAll(async () => {
    h = await startHarness({ env: { POLICY_FILE } });
    auditor = tokenFor('auditor');
    const as = (token: string) => ({ Authorization: `Bearer ${token}` });

    const created = await h.api().post('/v1/applications').set(as(ada)).send({ name: 'Billing sync' });
    expect(created.status).toBe(201);
    appId = created.body.id;
    const key = await h.api().post(`/v1/applications/${appId}/apikeys`).set(as(ada)).send({});
    expect(key.status).toBe(201);
    apiKey = key.body.key;
    expect(
      (
        await h
          .api()
          .delete(`/v1/applications/${appId}`)
          .set(as(tokenFor('viewer', 'vic')))
      ).status,
    ).toBe(403);
    // Deleting an application waits for a second person (the built-in two-person rule).
    expect((await deleteWithApproval(h, `/v1/applications/${appId}`, ada)).body.approval.state).toBe('executed');

    // An editor in two teams names the owner of what they create.
    const pat = tokenFor('editor', 'pat', ['payments', 'search']);
    const teamApp = await h
      .api()
      .post('/v1/applications')
      .set(as(pat))
      .set('X-Team', 'payments')
      .send({ name: 'Payouts' });
    expect(teamApp.status).toBe(201);
    teamAppId = teamApp.body.id;
    expect(
      (
        await h
          .api()
          .post(`/v1/applications/${teamAppId}/webhooks`)
          .set(as(pat))
          .send({ url: 'https://hooks.example.com/payouts' })
      ).status,
    ).toBe(201);

    // Ada asks to delete three of team billing's applications; they wait for a second person.
    const names = { legacy: 'Legacy importer', dashboard: 'Old dashboard', ledger: 'Ledger export' } as const;
    for (const [which, name] of Object.entries(names) as [keyof typeof names, string][]) {
      const app = await h.api().post('/v1/applications').set(as(ada)).send({ name });
      expect(app.status).toBe(201);
      const asked = h.api().delete(`/v1/applications/${app.body.id}`).set(as(ada));
      const answer = await (which === 'legacy' ? asked.set('X-Approval-Reason', 'replaced by Billing v2') : asked);
      expect([answer.status, answer.body.approval?.state]).toEqual([202, 'pending']);
      pending[which] = { appId: app.body.id, approvalId: answer.body.approval.id };
    }

    browser = await launchChromium('the review console');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  interface Tab {
    context: BrowserContext;
    page: Page;
    /** Console errors and warnings (a CSP violation is one), and uncaught page errors. */
    problems: string[];
    /** Every request this tab made, as "METHOD url". */
    requests: string[];
  }

  /** A fresh tab (its own sessionStorage) that records every console error, page error and URL it requests. */
  async function openConsole(): Promise<Tab> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    context.setDefaultTimeout(5_000); // fail with Playwright's message, well before jest's own timeout
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning')
        problems.push(`console ${msg.type()}: ${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('request', (req) => {
      requestedUrls.push(req.url());
      requests.push(`${req.method()} ${req.url()}`);
    });
    const response = await page.goto(`${h.gatewayUrl}/console`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${h.gatewayUrl}/console/`);
    // The "no CSP violations" checks below only mean something if the policy is really there.
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(response?.headers()['cache-control']).toBe('no-store');
    return { context, page, problems, requests };
  }

  /** Every tab ends clean: no console error, no CSP violation, no uncaught exception (unless the test expects one). */
  async function closeConsole({ context, problems }: Tab, expected?: RegExp) {
    await context.close();
    expect(problems.filter((p) => !expected?.test(p))).toEqual([]);
  }

  async function signIn(page: Page, token: string) {
    await page.getByLabel('Bearer token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  const rows = (page: Page) => page.locator('#events tbody tr');
  /** The table's text, one array of cells per row, without the View button. */
  const cells = (page: Page) =>
    rows(page).evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 7).map((td) => td.innerText.replace(/\s+/g, ' ').trim())),
    );
  // An expression, not a function: this project compiles without the DOM library.
  const inPage = (page: Page, expression: string): Promise<unknown> => page.evaluate(expression);

  test('when an auditor pastes their token, then the console says who is signed in, lists events and keeps the token in this tab only', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, auditor);

    await expect(page.locator('#whoami').textContent()).resolves.toBe('user-auditor (auditor)');
    await rows(page).first().waitFor();
    expect(await rows(page).count()).toBeGreaterThanOrEqual(4);
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/events in the trail/);
    expect(
      await inPage(page, '({ session: sessionStorage.length, local: localStorage.length, cookie: document.cookie })'),
    ).toEqual({ session: 1, local: 0, cookie: '' });

    await page.reload(); // same tab: still signed in
    await page.locator('#whoami').getByText('user-auditor').waitFor();
    await closeConsole(tab);
  });

  test('when filtered by applications.delete and the application id, then both attempts show who, when and the outcome, and an event opens with its raw entries', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, auditor);
    await rows(page).first().waitFor();

    await page.getByLabel('Operation').selectOption('applications.delete');
    await page.getByLabel('Application id').fill(appId);
    await page.getByLabel('Application id').press('Enter'); // keyboard submits the filter
    await page.getByRole('status').getByText('2 events matching the filter').waitFor();

    const table = await cells(page);
    expect(table).toEqual([
      [
        expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
        'Ada Lovelace <ada@example.com> ada',
        'applications.delete DELETE',
        appId,
        'billing',
        'Success',
        '204',
      ],
      [
        expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
        'vic',
        'applications.delete DELETE',
        appId,
        'billing',
        'Denied',
        '— forbidden',
      ],
    ]);

    await page
      .getByRole('button', { name: /^View event/ })
      .first()
      .click();
    const detail = page.getByRole('region', { name: /^Event \d+ · applications\.delete$/ });
    await detail.waitFor();
    await expect(inPage(page, 'document.activeElement?.id')).resolves.toBe('detail-heading');
    const entries = detail.locator('details.entry');
    expect(await entries.count()).toBe(2);
    const [request, response] = await entries
      .locator('pre')
      .allTextContents()
      .then((texts) => texts.map((t) => JSON.parse(t)));
    expect(request).toMatchObject({
      kind: 'request',
      operation: 'applications.delete',
      decision: 'allowed',
      target: { application_id: appId },
      hash: expect.any(String),
    });
    expect(response).toMatchObject({ kind: 'response', outcome: 'success', upstream_status: 204 });
    await expect(detail.textContent()).resolves.toContain('ada@example.com');
    await expect(page.locator('tr[aria-current="true"] td').nth(1).textContent()).resolves.toContain('Ada Lovelace');

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.setViewportSize({ width: 1440, height: 1000 }); // room for both raw entries in the README's picture
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });
    await expect(inPage(page, "document.activeElement?.getAttribute('aria-label')")).resolves.toMatch(/^View event/);

    await page.getByRole('button', { name: 'Clear' }).click();
    await page
      .getByRole('status')
      .getByText(/^\d+ events in the trail\.$/)
      .waitFor();
    expect(await page.getByLabel('Application id').inputValue()).toBe('');
    await closeConsole(tab);
  });

  test("when filtered by a team, then only the events about that team's applications show, with the team in the table and the detail", async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, auditor);
    await rows(page).first().waitFor();

    await page.getByLabel('Team').fill('payments');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('status').getByText('2 events matching the filter').waitFor();

    const time = expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await cells(page)).toEqual([
      [time, 'pat', 'webhooks.create POST', expect.stringContaining(teamAppId), 'payments', 'Success', '201'],
      [time, 'pat', 'applications.create POST', expect.any(String), 'payments', 'Success', '201'],
    ]);
    await expect(page.locator('#filter-summary').textContent()).resolves.toContain('team = payments');

    await page
      .getByRole('button', { name: /^View event/ })
      .first()
      .click();
    const detail = page.getByRole('region', { name: /^Event \d+ · webhooks\.create$/ });
    await detail.waitFor();
    await expect(
      detail
        .locator('dt', { hasText: /^Team$/ })
        .locator('+ dd')
        .textContent(),
    ).resolves.toBe('payments');

    await page.getByLabel('Team').fill('search');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('status').getByText('0 events matching the filter').waitFor();
    expect(await page.locator('#empty').isVisible()).toBe(true);
    await closeConsole(tab);
  });

  test('when the reviewer runs verification, then the console reports the chain is OK', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, auditor);
    await page.getByRole('button', { name: 'Verify integrity' }).click();
    await page
      .locator('#verify-result')
      .getByText(/^OK: the chain is intact \(\d+ entries, last sequence \d+\)\.$/)
      .waitFor();
    await closeConsole(tab);
  });

  test('when the reviewer exports the filter as CSV, then the saved file has the header row and one row per matching event', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, auditor);
    await page.getByLabel('Operation').selectOption('applications.delete');
    await page.getByLabel('Application id').fill(appId);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('status').getByText('2 events matching the filter').waitFor();

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^audit-events-\d{8}T\d{6}Z\.csv$/);
    const lines = readFileSync(await download.path(), 'utf8')
      .split('\r\n')
      .filter(Boolean);
    expect(lines[0]).toMatch(/^sequence,time,completed_at,kind,/);
    expect(lines).toHaveLength(3);
    expect(lines.slice(1).map((l) => l.split(',')[3])).toEqual(['mutation', 'decision']);
    await page
      .getByRole('status')
      .getByText(/^Exported audit-events-.*\.csv/)
      .waitFor();

    const [ndjson] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'NDJSON' }).click(),
    ]);
    const events = readFileSync(await ndjson.path(), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.outcome)).toEqual(['success', 'denied']);
    await closeConsole(tab);
  });

  test('when the reviewer searches for a leaked key, then the event that created it is found and the key never appears in a URL', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, auditor);
    await page.getByLabel('Leaked API key').fill(apiKey);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('status').getByText('1 event matching the filter').waitFor();
    await expect(rows(page).locator('td').nth(2).textContent()).resolves.toContain('apikeys.create');
    await expect(page.locator('#filter-summary').textContent()).resolves.toMatch(
      /key_fingerprint = hmac-sha256:[0-9a-f]{64}/,
    );
    expect(requestedUrls.filter((u) => u.includes(apiKey))).toEqual([]);
    await closeConsole(tab);
  });

  test('when the reviewer signs out, then the token is gone from sessionStorage and the sign-in form is back', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, auditor);
    await rows(page).first().waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Bearer token').waitFor();
    expect(await inPage(page, 'sessionStorage.length')).toBe(0);
    expect(await page.locator('#workspace').isHidden()).toBe(true);
    await page.reload();
    await expect(page.locator('#sign-in').isVisible()).resolves.toBe(true);
    await closeConsole(tab);
  });

  test('when the signed-in page is read by assistive technology, then every control has an accessible name', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, auditor);
    await rows(page).first().waitFor();
    await page
      .getByRole('button', { name: /^View event/ })
      .first()
      .click();
    await page.locator('#detail-entries details').first().waitFor();

    // Chromium's own accessibility tree: the names a screen reader would announce.
    const cdp = await tab.context.newCDPSession(page);
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: { ignored: boolean; role?: { value: string }; name?: { value: string } }[];
    };
    const controls = nodes.filter(
      (n) => !n.ignored && ['textbox', 'combobox', 'button', 'checkbox', 'link'].includes(n.role?.value ?? ''),
    );
    expect(controls.length).toBeGreaterThan(15);
    expect(controls.filter((n) => !n.name?.value?.trim()).map((n) => n.role?.value)).toEqual([]);
    expect(nodes.map((n) => n.role?.value)).toContain('table');
    await closeConsole(tab);
  });

  test('when a token is refused, then the console says why and forgets it', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(
      page,
      signToken({ sub: 'rita', roles: ['auditor'], secret: 'not-the-secret-the-gateway-trusts-at-all' }),
    );
    await page
      .getByRole('alert')
      .getByText(/^Your token was refused: .*\(invalid_token, request [0-9a-f-]+\)/)
      .waitFor();
    expect(await inPage(page, 'sessionStorage.length')).toBe(0);
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
    await closeConsole(tab, /Failed to load resource: the server responded with a status of 401/);
  });

  test('when more events match than one page holds, then "Load more" fetches the rest and then disappears', async () => {
    // 101 audit.checkpoint events: each use of the trail is itself recorded.
    // One at a time: a caller may have only AUDIT_READS_PER_CALLER audit reads in flight.
    for (let i = 0; i < 101; i++)
      await h.api().get('/v1/audit/checkpoint').set('Authorization', `Bearer ${auditor}`).expect(200);
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, auditor);
    await rows(page).first().waitFor();
    await page.getByLabel('Operation').selectOption('audit.checkpoint');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('status').getByText('100 events matching the filter; more with "Load more".').waitFor();
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByRole('status').getByText('101 events shown.').waitFor();
    expect(await page.getByRole('button', { name: 'Load more' }).isHidden()).toBe(true);
    const sequences = await rows(page).evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-sequence'))));
    expect(new Set(sequences).size).toBe(101);
    expect(sequences).toEqual([...sequences].sort((a, b) => b - a)); // newest first, across the page boundary
    await closeConsole(tab);
  });

  // ---- the Approvals view (issue 14) ------------------------------------------------------------------------

  const approvalsTab = (page: Page) => page.getByRole('tab', { name: /^Approvals/ });
  const pendingRows = (page: Page) => page.locator('#pending tbody tr');
  const historyRows = (page: Page) => page.locator('#history tbody tr');
  const approvalRegion = (page: Page, state: string) =>
    page.getByRole('region', { name: `Approval request · applications.delete · ${state}` });
  // In the pending list: once it has run, the same request also shows in the history to whoever approved it.
  const openRequest = (page: Page, appId: string) =>
    page
      .locator('#pending')
      .getByRole('button', { name: new RegExp(`^Open the request to applications\\.delete on .* \\(${appId}\\)$`) })
      .first();
  const approvalOf = async (id: string) =>
    (await h.api().get(`/v1/approvals/${id}`).set('Authorization', `Bearer ${auditor}`)).body.approval;
  /** Names Chromium's accessibility tree gives the visible controls (what a screen reader announces); the unnamed ones. */
  async function unnamedControls(tab: Tab) {
    const cdp = await tab.context.newCDPSession(tab.page);
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: { ignored: boolean; role?: { value: string }; name?: { value: string } }[];
    };
    const controls = nodes.filter(
      (n) => !n.ignored && ['textbox', 'combobox', 'button', 'checkbox', 'link', 'tab'].includes(n.role?.value ?? ''),
    );
    return {
      controls: controls.length,
      unnamed: controls.filter((n) => !n.name?.value?.trim()).map((n) => n.role?.value),
    };
  }

  test('when the requester opens their own pending request and approves it, then the console shows the gateway’s self-approval refusal and it stays pending', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, ada);
    await rows(page).first().waitFor(); // an admin holds audit.read: the events view comes first
    await page.getByRole('tab', { name: 'Approvals (3 pending)' }).waitFor();
    await approvalsTab(page).click();
    await openRequest(page, pending.legacy.appId).click();
    const detail = approvalRegion(page, 'Pending');
    await detail.waitFor();
    await expect(
      page.getByText('You asked for this: someone else must approve or deny it.').first().isVisible(),
    ).resolves.toBe(true);

    await detail.getByRole('button', { name: 'Approve' }).click();
    await page
      .getByRole('alert')
      .getByText(/^You asked for this: someone else must approve or deny it\. \(forbidden, request [0-9a-f-]+\)$/)
      .waitFor();
    expect(await approvalOf(pending.legacy.approvalId)).toMatchObject({ state: 'pending', approvals: [] });
    await expect(detail.isVisible()).resolves.toBe(true);
    await closeConsole(tab, /Failed to load resource: the server responded with a status of 403/);
  });

  test('when a second admin opens the pending request and approves it with a reason, then the gateway runs it once, the console shows it executed and in the history, and links to its audit events', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, grace);
    await rows(page).first().waitFor();
    // Keyboard: the tabs follow the WAI-ARIA pattern (arrow keys move and select). Signing in ends by counting the
    // pending approvals and focusing the first filter, after the events are listed: wait for that, or it can take the
    // focus from the tab between the test's focus and its key press (it did, on a loaded machine).
    await page.locator('#f-operation:focus').waitFor();
    await page.getByRole('tab', { name: 'Events' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.locator('#tab-approvals[aria-selected="true"]').waitFor(); // the handler runs as the key is handled
    await expect(inPage(page, 'document.activeElement?.id')).resolves.toBe('tab-approvals');
    await page
      .getByRole('status')
      .getByText(/^\d+ requests? (is|are) waiting for approval\.$/)
      .waitFor();
    await pendingRows(page).first().waitFor();

    const pendingCells = () =>
      pendingRows(page).evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll('td')].slice(0, 7).map((td) => td.innerText.replace(/\s+/g, ' ').trim()),
        ),
      );
    const legacyTarget = `Legacy importer (${pending.legacy.appId})`;
    const legacyRow = (await pendingCells()).find((cells) => cells[1] === legacyTarget);
    expect(legacyRow).toEqual([
      'applications.delete DELETE',
      legacyTarget,
      'billing',
      `Ada Lovelace <ada@example.com> ada at ${TEST_ISSUER}`,
      'replaced by Billing v2',
      expect.stringMatching(/^(now|\d+ seconds? ago|1 minute ago) expires in (60|59) minutes$/),
      '0 of 1',
    ]);

    await openRequest(page, pending.legacy.appId).click();
    const detail = approvalRegion(page, 'Pending');
    await detail.waitFor();
    await expect(inPage(page, 'document.activeElement?.id')).resolves.toBe('approval-heading');
    const stored = JSON.parse((await page.locator('#approval-request').textContent()) ?? '{}');
    expect(stored).toMatchObject({
      id: pending.legacy.approvalId,
      operation: 'applications.delete',
      path: `/v1/applications/${pending.legacy.appId}`,
      target: { application_id: pending.legacy.appId, name: 'Legacy importer', name_status: 'current' },
      requested_by: { issuer: TEST_ISSUER, subject: 'ada' },
      input_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    await expect(page.locator('#approval-votes').textContent()).resolves.toBe('None yet.');
    await expect(page.locator('#approval-own').isHidden()).resolves.toBe(true);
    expect(await unnamedControls(tab)).toEqual({ controls: expect.any(Number), unnamed: [] });

    mkdirSync(path.dirname(APPROVALS_SCREENSHOT), { recursive: true });
    await page.setViewportSize({ width: 1680, height: 1000 }); // room for the lists next to the request
    await page.screenshot({ path: APPROVALS_SCREENSHOT, fullPage: true });

    await page.getByLabel('Reason for approving (optional)').fill('checked with billing: nothing connected');
    await page.getByLabel('Reason for approving (optional)').press('Enter'); // keyboard submits
    await page.getByRole('status').getByText('Approved and executed: the Management API answered 204.').waitFor();
    const executed = approvalRegion(page, 'Executed');
    await executed.waitFor();
    await expect(page.locator('#approval-votes').textContent()).resolves.toMatch(
      /^Grace Hopper <grace@example\.com> \(grace at \S+\) at \S+: checked with billing: nothing connected$/,
    );
    await expect(
      executed
        .locator('dt', { hasText: /^Result$/ })
        .locator('+ dd')
        .textContent(),
    ).resolves.toBe('Management API answered 204');
    await expect(executed.getByRole('button', { name: 'Approve' }).isHidden()).resolves.toBe(true);

    expect(await approvalOf(pending.legacy.approvalId)).toMatchObject({
      state: 'executed',
      approvals: [{ by: { subject: 'grace' }, reason: 'checked with billing: nothing connected' }],
    });
    expect(
      (await h.api().get(`/v1/applications/${pending.legacy.appId}`).set('Authorization', `Bearer ${ada}`)).status,
    ).toBe(404);
    expect((await pendingCells()).map((cells) => cells[1])).not.toContain(legacyTarget);
    await page.getByRole('tab', { name: 'Approvals (2 pending)' }).waitFor();

    await page.getByLabel('State').selectOption('executed');
    await page.getByRole('button', { name: 'Show' }).click();
    await page
      .getByRole('status')
      .getByText(/^\d+ requests? in the history in state executed\.$/)
      .waitFor();
    const history = await historyRows(page).evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].slice(1, 6).map((td) => td.innerText.replace(/\s+/g, ' ').trim())),
    );
    expect(history).toContainEqual([
      'applications.delete DELETE',
      `${pending.legacy.appId} (deleted)`, // its name is read when the history is: the application is gone
      `Ada Lovelace <ada@example.com> ada at ${TEST_ISSUER}`,
      'Executed',
      'grace',
    ]);
    expect(history.map((cells) => cells[3])).toEqual(history.map(() => 'Executed'));

    await page.getByRole('link', { name: 'Show its audit events' }).click();
    await page.getByRole('status').getByText('4 events matching the filter').waitFor();
    expect(new URL(page.url()).searchParams.get('approval_id')).toBe(pending.legacy.approvalId);
    // Newest first: the execution (in the requester's name), the approval, Ada's refused self-approval, the request.
    expect((await cells(page)).map((row) => [row[1], row[2], row[5]])).toEqual([
      ['Ada Lovelace <ada@example.com> ada', 'applications.delete DELETE', 'Success'],
      ['Grace Hopper <grace@example.com> grace', 'approval.approve POST', 'n/a'],
      ['Ada Lovelace <ada@example.com> ada', 'approval.approve POST', 'Denied'],
      ['Ada Lovelace <ada@example.com> ada', 'approval.request DELETE', 'n/a'],
    ]);
    await closeConsole(tab);
  });

  test('when a deny has no reason, then the form blocks it before anything is sent; with a reason, the request is denied', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, grace);
    await rows(page).first().waitFor();
    await approvalsTab(page).click();
    await openRequest(page, pending.dashboard.appId).click();
    const detail = approvalRegion(page, 'Pending');
    await detail.waitFor();

    const sentDenials = () => tab.requests.filter((r) => r.startsWith('POST ') && r.endsWith('/deny'));
    await detail.getByRole('button', { name: 'Deny' }).click();
    await expect(inPage(page, "document.getElementById('deny-reason').validity.valueMissing")).resolves.toBe(true);
    await page.getByLabel('Reason for denying (required)').fill('   ');
    await detail.getByRole('button', { name: 'Deny' }).click();
    await expect(inPage(page, "document.getElementById('deny-reason').validity.valueMissing")).resolves.toBe(true);
    expect(sentDenials()).toEqual([]);
    expect(await approvalOf(pending.dashboard.approvalId)).toMatchObject({ state: 'pending' });

    await page.getByLabel('Reason for denying (required)').fill('still used by the finance team');
    await detail.getByRole('button', { name: 'Deny' }).click();
    await page
      .getByRole('status')
      .getByText(`Denied: applications.delete on Old dashboard (${pending.dashboard.appId}) will not run.`)
      .waitFor();
    const denied = approvalRegion(page, 'Denied');
    await denied.waitFor();
    await expect(
      denied
        .locator('dt', { hasText: /^End reason$/ })
        .locator('+ dd')
        .textContent(),
    ).resolves.toBe('still used by the finance team');
    expect(sentDenials()).toHaveLength(1);
    expect(await approvalOf(pending.dashboard.approvalId)).toMatchObject({
      state: 'denied',
      ended_by: 'grace',
      end_reason: 'still used by the finance team',
    });
    expect(
      (await h.api().get(`/v1/applications/${pending.dashboard.appId}`).set('Authorization', `Bearer ${ada}`)).status,
    ).toBe(200);
    await closeConsole(tab);
  });

  test('when an approver without audit.read signs in, then the events view is hidden (never asked for) and they approve from the Approvals view', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, tokenFor('release-manager', 'rema', ['billing']));
    await page
      .locator('#events-unavailable')
      .getByText('Your roles (release-manager) do not grant audit.read, so the audit events are hidden')
      .waitFor();
    await expect(approvalsTab(page).getAttribute('aria-selected')).resolves.toBe('true');
    expect(await page.locator('#events-view').isHidden()).toBe(true);
    expect(await page.getByRole('tab', { name: 'Events' }).count()).toBe(0);
    await page
      .getByRole('status')
      .getByText(/^\d+ requests? (is|are) waiting for approval\.$/)
      .waitFor();

    await openRequest(page, pending.ledger.appId).click();
    await approvalRegion(page, 'Pending').waitFor();
    expect(await page.getByRole('link', { name: 'Show its audit events' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').getByText('Approved and executed: the Management API answered 204.').waitFor();
    await openRequest(page, pending.ledger.appId).waitFor({ state: 'detached' }); // gone from the pending list
    expect(await approvalOf(pending.ledger.approvalId)).toMatchObject({
      state: 'executed',
      approvals: [{ by: { subject: 'rema' } }],
    });
    expect(tab.requests.filter((r) => r.includes('/v1/audit/'))).toEqual([]);
    await closeConsole(tab);
  });

  test('when someone who may neither read the trail nor approve signs in, then the console says so and shows an empty approvals view', async () => {
    const tab = await openConsole();
    const { page } = tab;
    await signIn(page, tokenFor('viewer', 'vic'));
    await page.locator('#events-unavailable').getByText('Your roles (viewer) do not grant audit.read').waitFor();
    await page.getByRole('status').getByText('Nothing is waiting for approval.').waitFor();
    expect(await page.locator('#events-view').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Bearer token').waitFor();
    expect(await inPage(page, 'sessionStorage.length')).toBe(0);
    await closeConsole(tab);
  });

  test('when all of the above ran, then no token or key leaked into a log line or a response', () => {
    h.assertNoLeaks();
    expect(h.logs.lines.filter((line) => line.includes(apiKey))).toEqual([]);
  });
});
