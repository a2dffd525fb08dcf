// The gateway's one web app (issue 24): team members manage applications, approvers act on requests, reviewers
// read the trail. Plain DOM, no framework, no CDN. Everything comes from the public /v1 API, reached with the
// session cookie (HttpOnly: this script never sees it) and the CSRF header every such call must carry. Views and
// buttons follow what /v1/me allows and the target's state; the gateway decides anyway.
const API = '../v1/';
const CSRF = { 'X-Requested-With': 'kloudless-gateway' };
const PAGE_SIZE = 10;
// Each refresh of the approvals view reads the applications' names upstream (budgeted): not too often.
const REFRESH_MS = 30_000;

const $ = (id) => document.getElementById(id);
const state = { me: null, page: 1, total: 0, search: '', app: null, view: null, approvalId: null, cursor: null };

class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.error;
    super(e ? `${e.message} (${e.code}${detailText(e.details)})` : `The gateway answered ${status}.`);
    this.status = status;
    this.code = e ? e.code : null;
  }
}

function detailText(details) {
  if (!Array.isArray(details) || details.length === 0) return '';
  const parts = details
    .slice(0, 5)
    .map((d) => [d.field, d.message, d.reason].filter(Boolean).join(': '))
    .filter(Boolean);
  return parts.length > 0 ? `; ${parts.join('; ')}` : '';
}

/** One call to the gateway: the gateway's own error message is shown as it is. */
async function call(path, { method = 'GET', body, headers = {}, raw = false } = {}) {
  const res = await fetch(path.startsWith('../') ? path : `${API}${path}`, {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { ...CSRF, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (raw && res.ok) return res;
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, parsed);
  return { status: res.status, body: parsed };
}

/** A message in the status line beside the action (each is a polite live region). */
function say(statusId, text) {
  $(statusId).textContent = text;
}

/** Runs an action from a button: the button waits, and a refusal is said beside it, in the gateway's words. */
async function run(action, button, statusId = 'status') {
  if (button) button.disabled = true;
  try {
    await action();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showSignIn('Your session has ended. Sign in again.');
    const target = typeof statusId === 'string' ? $(statusId) : statusId;
    target.textContent = `Not done: ${err && err.message ? err.message : err}`;
  } finally {
    if (button) button.disabled = false;
  }
}

const may = (permission) => Boolean(state.me && state.me.permissions.includes(permission));

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith('aria-') || key === 'role' || key === 'for') node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}

/** A short visible label; the accessible name says what it acts on (a list of "Remove" buttons is no help). */
function button(text, label, onClick, className = 'secondary', statusId = 'status') {
  const b = el('button', { type: 'button', className, textContent: text, 'aria-label': label });
  b.addEventListener('click', () => run(() => onClick(b), b, statusId));
  return b;
}

/** A person as verified (subject at issuer, and the email) beside the display name their token carries. */
function verified(p) {
  const subject = p.subject ?? p.sub;
  return `verified: ${subject}${p.issuer ? ` at ${p.issuer}` : ''}${p.email ? `, ${p.email}` : ''}`;
}
function personText(p) {
  return p.name ? `${p.name} (${verified(p)})` : verified(p);
}
const isMe = (p) =>
  state.me && (p.subject ?? p.sub) === state.me.sub && (p.issuer ?? null) === (state.me.issuer ?? null);

// ---- asking before destroying ------------------------------------------------------------------------------

/** A modal question; with `typeName`, Confirm stays disabled until that name is typed. Resolves true to go on. */
function confirmFirst({ title, text, action, typeName }) {
  const dialog = $('confirm');
  $('confirm-heading').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-yes').textContent = action;
  $('confirm-type').hidden = !typeName;
  $('confirm-input').value = '';
  $('confirm-label').textContent = typeName ? `Type the application's name, ${typeName}, to confirm` : '';
  $('confirm-yes').disabled = Boolean(typeName);
  $('confirm-input').oninput = () => ($('confirm-yes').disabled = $('confirm-input').value !== typeName);
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => resolve(dialog.returnValue === 'confirm' && (!typeName || $('confirm-input').value === typeName)),
      { once: true },
    );
    dialog.showModal();
    (typeName ? $('confirm-input') : $('confirm-no')).focus();
  });
}

// ---- signing in and out, and the views -------------------------------------------------------------------

async function start() {
  const { body } = await call('../auth/session');
  if (!body.authenticated) return showSignIn('');
  state.me = (await call('me')).body;
  const deepLink = sessionStorage.getItem('kgw-after-sign-in');
  sessionStorage.removeItem('kgw-after-sign-in');
  if (deepLink && location.hash.length <= 2) history.replaceState(null, '', deepLink);
  $('whoami').textContent = state.me.name || state.me.sub;
  $('verified-identity').textContent = `(${verified(state.me)}; ${state.me.roles.join(', ') || 'no role'}${
    state.me.teams.length ? `; team ${state.me.teams.join(', ')}` : ''
  })`;
  $('identity').hidden = false;
  $('nav').hidden = false;
  $('sign-in').hidden = true;
  $('nav-applications').hidden = !may('applications.list');
  $('nav-approvals').hidden = state.me.permissions.length === 0;
  $('nav-review').hidden = !may('audit.read');
  $('create-form').hidden = !may('applications.create');
  $('new-team-field').hidden = state.me.teams.length < 2;
  $('new-team').replaceChildren(...state.me.teams.map((t) => el('option', { value: t, textContent: t })));
  say('status', `Signed in as ${state.me.name || state.me.sub}.`);
  window.addEventListener('hashchange', () => run(route));
  setInterval(() => run(refresh), REFRESH_MS);
  // Coming back to the tab shows what changed meanwhile (a request approved elsewhere), without waiting.
  window.addEventListener('focus', () => run(refresh));
  await route();
}

function showSignIn(message) {
  state.me = null;
  // Sign-in comes back to /app/ (the fragment never reaches the server): the deep link is kept here until then.
  if (location.hash.length > 2) sessionStorage.setItem('kgw-after-sign-in', location.hash);
  for (const id of ['identity', 'nav']) $(id).hidden = true;
  for (const v of document.querySelectorAll('.view')) v.hidden = true;
  $('sign-in').hidden = false;
  say('status', message);
}

async function signOut(everywhere) {
  if (everywhere) {
    const ok = await confirmFirst({
      title: 'Sign out everywhere?',
      text: 'Every browser signed in as you, on every device, is signed out now.',
      action: 'Sign out everywhere',
    });
    if (!ok) return;
    await call('me/sessions/end', { method: 'POST', body: {} });
  }
  const { body } = everywhere ? { body: {} } : await call('../auth/logout', { method: 'POST' });
  // Then at the identity provider too (RP-initiated logout), which sends the browser back here.
  if (body.end_session_url) window.location.assign(body.end_session_url);
  else showSignIn(everywhere ? 'Signed out everywhere.' : 'Signed out.');
}

/** The first view this person may use: what they came for. */
function homeView() {
  if (may('applications.list')) return '#/applications';
  if (may('audit.read')) return '#/review';
  return '#/approvals';
}

/** Deep links: #/applications[/<id>], #/approvals[/<id>], #/review[/events/<sequence>]. */
async function route() {
  const [view = '', id = '', sub = ''] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const allowed = {
    applications: may('applications.list') || (id !== '' && may('applications.get')),
    approvals: state.me.permissions.length > 0,
    review: may('audit.read'),
  };
  if (!Object.hasOwn(allowed, view)) return void location.replace(homeView());
  if (!allowed[view]) return void say('status', 'Your roles do not include this view.');
  if (view === 'applications' && id) return show('application', () => openApp(id));
  if (view === 'applications') return show('applications', loadApps);
  if (view === 'approvals') {
    state.approvalId = id || null;
    return show('approvals', loadApprovals);
  }
  return show('review', () => (id === 'events' && sub ? openEvent(sub) : loadEvents(true)));
}

async function show(view, load) {
  state.view = view;
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${view}`;
  for (const a of $('nav').querySelectorAll('a'))
    if (a.id === `nav-${view === 'application' ? 'applications' : view}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  await load();
}

/** A view shows what is true now: an approved deletion elsewhere closes the application it deleted. */
async function refresh() {
  if (!state.me || $('confirm').open) return;
  if (state.view === 'approvals' && !document.activeElement?.closest('form')) await loadApprovals(true);
  if (state.view === 'application' && state.app) {
    try {
      await call(`applications/${encodeURIComponent(state.app.id)}`);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
      const name = state.app.name;
      state.app = null;
      location.hash = '#/applications';
      say('status', `${name} no longer exists: it was deleted.`);
    }
  }
}

// ---- applications ------------------------------------------------------------------------------------------

async function loadApps() {
  // Searching by name reads every page the caller may see (the Management API has no name filter).
  const query = state.search ? 'page=1&page_size=1000' : `page=${state.page}&page_size=${PAGE_SIZE}`;
  const { body } = await call(`applications?${query}`);
  const needle = state.search.toLowerCase();
  const objects = needle ? body.objects.filter((a) => a.name.toLowerCase().includes(needle)) : body.objects;
  state.total = needle ? objects.length : (body.total ?? body.count ?? body.objects.length);
  const pages = needle ? 1 : Math.max(1, Math.ceil(state.total / PAGE_SIZE));
  $('apps').tBodies[0].replaceChildren(
    ...objects.map((app) =>
      el(
        'tr',
        {},
        el('td', {}, el('a', { href: `#/applications/${encodeURIComponent(app.id)}`, textContent: app.name })),
        el('td', {}, el('code', { textContent: app.id })),
        el('td', { textContent: app.active === false ? 'no' : 'yes' }),
      ),
    ),
  );
  if (objects.length === 0)
    $('apps').tBodies[0].append(
      el(
        'tr',
        {},
        el('td', {
          colSpan: 3,
          textContent: needle ? `No application named like “${state.search}”.` : 'No applications yet.',
        }),
      ),
    );
  $('page-info').textContent = needle
    ? `${objects.length} matching “${state.search}”`
    : `Page ${state.page} of ${pages} (${state.total} applications)`;
  $('pager').hidden = !needle && pages <= 1;
  $('prev-page').hidden = $('next-page').hidden = Boolean(needle);
  $('prev-page').disabled = state.page <= 1;
  $('next-page').disabled = state.page >= pages;
}

async function createApp(form) {
  const data = new FormData(form);
  const body = { name: String(data.get('name')).trim() };
  const description = String(data.get('description') || '').trim();
  if (description) body.description = description;
  const headers = state.me.teams.length > 1 ? { 'X-Team': String(data.get('team')) } : {};
  const { body: app } = await call('applications', { method: 'POST', body, headers });
  form.reset();
  say('status', `Created ${app.name}.`);
  location.hash = `#/applications/${encodeURIComponent(app.id)}`;
}

async function openApp(id) {
  say('detail-status', '');
  let app;
  try {
    app = (await call(`applications/${encodeURIComponent(id)}`)).body;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    $('detail-heading').textContent = 'No such application';
    $('detail-id').textContent = id;
    for (const part of ['edit-form', 'webhooks-part', 'keys-part', 'delete-form']) $(part).hidden = true;
    return say('detail-status', 'It does not exist, or your teams do not own it.');
  }
  state.app = app;
  $('detail-heading').textContent = `Application ${app.name}`;
  $('detail-id').textContent = app.id;
  $('edit-name').value = app.name;
  $('edit-description').value = app.description || '';
  $('edit-active').checked = app.active !== false;
  $('edit-form').hidden = !may('applications.update');
  $('webhooks-part').hidden = !may('webhooks.list');
  $('webhook-form').hidden = !may('webhooks.create');
  $('keys-part').hidden = !may('apikeys.list');
  $('create-key').hidden = !may('apikeys.create');
  $('delete-form').hidden = !may('applications.delete');
  await Promise.all([may('webhooks.list') && loadWebhooks(), may('apikeys.list') && loadKeys()]);
  $('detail-heading').focus();
}

async function saveApp() {
  const body = {
    name: $('edit-name').value.trim(),
    description: $('edit-description').value,
    active: $('edit-active').checked,
  };
  const { body: app } = await call(`applications/${encodeURIComponent(state.app.id)}`, { method: 'PATCH', body });
  await openApp(app.id);
  say('detail-status', `Saved ${app.name}.`);
}

const appPath = () => `applications/${encodeURIComponent(state.app.id)}`;

async function loadWebhooks() {
  const { body } = await call(`${appPath()}/webhooks?page_size=100`);
  const list = $('webhooks');
  list.replaceChildren(
    ...body.objects.map((hook) =>
      el(
        'li',
        {},
        el('code', { textContent: hook.url }),
        ...(may('webhooks.delete')
          ? [button('Remove', `Remove webhook ${hook.url}`, () => removeWebhook(hook), 'secondary', 'detail-status')]
          : []),
      ),
    ),
  );
  if (body.objects.length === 0) list.append(el('li', { textContent: 'No webhooks yet.' }));
}

async function addWebhook(form) {
  const url = String(new FormData(form).get('url')).trim();
  const res = await call(`${appPath()}/webhooks`, { method: 'POST', body: { url } });
  form.reset();
  if (!guarded(res, `Adding webhook ${url}`)) say('detail-status', `Added webhook ${url}.`);
  await loadWebhooks();
}

async function removeWebhook(hook) {
  const ok = await confirmFirst({
    title: 'Remove this webhook?',
    text: `${hook.url} stops receiving events for ${state.app.name}.`,
    action: 'Remove webhook',
  });
  if (!ok) return say('detail-status', 'Kept the webhook.');
  const res = await call(`${appPath()}/webhooks/${encodeURIComponent(hook.id)}`, { method: 'DELETE' });
  if (!guarded(res, `Removing webhook ${hook.url}`)) say('detail-status', `Removed webhook ${hook.url}.`);
  await loadWebhooks();
}

async function loadKeys() {
  $('keys-hint').textContent = may('apikeys.reveal')
    ? 'Shown in full: your roles may reveal them. Treat them as passwords.'
    : 'Masked: your roles may not reveal key values.';
  const { body } = await call(`${appPath()}/apikeys?page_size=100`);
  const list = $('apikeys');
  list.replaceChildren(
    ...body.objects.map((key) => {
      const canDelete = may('apikeys.delete') && !key.key.startsWith('****');
      const end = key.key.slice(-4);
      return el(
        'li',
        {},
        el('code', { textContent: key.key }),
        ...(canDelete
          ? [button('Delete', `Delete API key ending ${end}`, () => deleteKey(key.key), 'secondary', 'detail-status')]
          : []),
      );
    }),
  );
  if (body.objects.length === 0) list.append(el('li', { textContent: 'No API keys yet.' }));
}

async function createKey() {
  const res = await call(`${appPath()}/apikeys`, { method: 'POST', body: {} });
  if (!guarded(res, 'The new API key')) say('detail-status', 'Created an API key.');
  await loadKeys();
}

async function deleteKey(key) {
  const end = key.slice(-4);
  const ok = await confirmFirst({
    title: 'Delete this API key?',
    text: `Every client using the key ending ${end} of ${state.app.name} stops working.`,
    action: 'Delete API key',
  });
  if (!ok) return say('detail-status', 'Kept the API key.');
  const res = await call(`${appPath()}/apikeys/${encodeURIComponent(key)}`, { method: 'DELETE' });
  if (!guarded(res, `Deleting the API key ending ${end}`)) say('detail-status', `Deleted the API key ending ${end}.`);
  await loadKeys();
}

async function deleteApp() {
  const app = state.app;
  const ok = await confirmFirst({
    title: `Delete ${app.name}?`,
    text: 'Every end user connected to it is cut off. A second person may have to approve it first.',
    action: 'Request deletion',
    typeName: app.name,
  });
  if (!ok) return say('detail-status', `Kept ${app.name}.`);
  const reason = $('delete-reason').value.trim();
  const res = await call(appPath(), { method: 'DELETE', headers: reason ? { 'X-Approval-Reason': reason } : {} });
  if (guarded(res, `Deleting ${app.name}`)) return;
  state.app = null;
  location.hash = '#/applications';
  say('status', `Deleted ${app.name}.`);
}

/** A 202: the two-person rule turned the call into an approval request. Says so, beside the action; true when it did. */
function guarded(res, what) {
  if (res.status !== 202 || !res.body || !res.body.approval) return false;
  const id = res.body.approval.id;
  $('detail-status').replaceChildren(
    `${what} is waiting for approval (request ${id}). `,
    el('a', { href: `#/approvals/${id}`, textContent: 'See the request' }),
  );
  return true;
}

// ---- approvals ---------------------------------------------------------------------------------------------

const OPERATION_WORDS = {
  'applications.create': 'Create an application',
  'applications.update': 'Change application',
  'applications.delete': 'Delete application',
  'apikeys.create': 'Create an API key for application',
  'apikeys.delete': 'Delete an API key of application',
  'webhooks.create': 'Add a webhook to application',
  'webhooks.update': 'Change a webhook of application',
  'webhooks.delete': 'Remove a webhook of application',
};

/** The application by its name as the Management API has it now, and its id; the path when none is named. */
function targetLabel(a) {
  const t = a.target;
  if (!t.application_id) return a.path;
  if (t.name) return `“${t.name}” (${t.application_id})`;
  return `${t.application_id} (${t.name_status === 'not_found' ? 'deleted' : 'name unavailable'})`;
}
const describe = (a) =>
  `${OPERATION_WORDS[a.operation] || a.operation} ${a.target.application_id ? targetLabel(a) : ''}`.trim();

/** Whether this person could approve it: not their own, their roles allow the operation on the target's team. */
function mayApprove(a) {
  if (a.state !== 'pending' || isMe(a.requested_by) || !may(a.operation)) return false;
  if (a.approvals.some((v) => isMe(v.by))) return false;
  if (a.approver_roles.length && !a.approver_roles.some((r) => state.me.roles.includes(r))) return false;
  return state.me.scopes[a.operation] === 'any' || state.me.teams.includes(a.team);
}

const ago = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
function relative(iso) {
  const s = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  for (const [unit, size] of [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ])
    if (Math.abs(s) >= size) return ago.format(Math.round(s / size), unit);
  return ago.format(s, 'second');
}

async function loadApprovals(quietly = false) {
  const one = state.approvalId;
  const list = $('approvals');
  if (one) {
    $('approvals-filter').hidden = true;
    const { body } = await call(`approvals/${encodeURIComponent(one)}`);
    list.replaceChildren(requestItem(body.approval));
    if (!quietly) say('approvals-status', '');
    return;
  }
  $('approvals-filter').hidden = false;
  const filter = $('approvals-state').value;
  const { body } = await call(`approvals?limit=50${filter ? `&state=${filter}` : ''}`);
  const kept = new Map(
    [...list.querySelectorAll('[data-status-for]')].map((p) => [p.dataset.statusFor, p.textContent]),
  );
  list.replaceChildren(...body.approvals.map(requestItem));
  for (const [id, text] of kept) {
    const status = list.querySelector(`[data-status-for="${CSS.escape(id)}"]`);
    if (status) status.textContent = text;
  }
  if (body.approvals.length === 0)
    list.append(el('li', { textContent: filter === 'pending' ? 'Nothing waits for approval.' : 'No requests.' }));
  if (!quietly)
    say('approvals-status', `${body.approvals.length} request${body.approvals.length === 1 ? '' : 's'} shown.`);
}

function requestItem(a) {
  const what = describe(a);
  const status = el('p', { className: 'status', role: 'status', 'aria-live': 'polite' });
  status.dataset.statusFor = a.id;
  const facts = [
    ['Application', a.target.application_id ? targetLabel(a) : a.path],
    ['Team', a.team || 'none'],
    ['Requested by', personText(a.requested_by)],
    ['Reason', a.reason || 'none given'],
    ['Asked', `${relative(a.created_at)} (${a.created_at})`],
    [a.state === 'pending' ? 'Expires' : 'Expiry', `${relative(a.expires_at)} (${a.expires_at})`],
    [
      'Approvals so far',
      `${a.approvals.length} of ${a.approvals_needed}${a.approvals.length ? `: ${a.approvals.map((v) => personText(v.by)).join('; ')}` : ''}`,
    ],
    ...(a.end_reason ? [['Why it ended', a.end_reason]] : []),
  ];
  const actions = el('div', { className: 'actions' });
  if (mayApprove(a)) {
    actions.append(
      button('Approve', `Approve: ${what}`, () => decide(a, 'approve', {}), 'primary', status),
      denyForm(a, what, status),
    );
  }
  if (a.state === 'pending' && isMe(a.requested_by))
    actions.append(
      button('Cancel request', `Cancel request: ${what}`, () => decide(a, 'cancel', {}), 'secondary', status),
    );
  const heading = el('h2', {}, el('a', { href: `#/approvals/${a.id}`, textContent: what }));
  return el(
    'li',
    { id: `approval-${a.id}` },
    el(
      'article',
      { 'aria-label': what },
      heading,
      el('p', { className: `state state-${a.state}`, textContent: a.state }),
      el('dl', {}, ...facts.flatMap(([k, v]) => [el('dt', { textContent: k }), el('dd', { textContent: v })])),
      actions,
      status,
    ),
  );
}

/** Deny asks why, in the page: the reason is required, and nothing is sent without one. */
function denyForm(a, what, status) {
  const id = `deny-reason-${a.id}`;
  const reason = el('input', { id, required: true, maxLength: 500, autocomplete: 'off' });
  const form = el(
    'form',
    { className: 'deny-form' },
    el('label', { for: id, textContent: 'Reason for denying (required)' }),
    reason,
    el('button', { type: 'submit', className: 'danger', textContent: 'Deny', 'aria-label': `Deny: ${what}` }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!reason.value.trim()) return void (status.textContent = 'Say why you deny it.');
    run(() => decide(a, 'deny', { reason: reason.value.trim() }), e.submitter, status);
  });
  return form;
}

async function decide(a, action, body) {
  const { body: result } = await call(`approvals/${encodeURIComponent(a.id)}/${action}`, { method: 'POST', body });
  const now = result.approval.state;
  const done = {
    approve:
      now === 'executed'
        ? `Approved and executed: the Management API answered ${result.upstream?.status ?? result.approval.result?.status}.`
        : now === 'failed'
          ? `Approved, but the execution failed: ${result.upstream?.error || result.approval.result?.error || result.upstream?.status}.`
          : `Approved: ${result.approval.approvals.length} of ${result.approval.approvals_needed} approvals.`,
    deny: `Denied: ${describe(a)} will not run.`,
    cancel: `Cancelled: ${describe(a)} will not run.`,
  }[action];
  // The request is shown as it is now, where it was, with the outcome beside its buttons; the list is read again
  // on the next refresh. Answers to actions do not read the application's name again: the one shown stands.
  const after = result.approval;
  if (after.target.name_status === 'not_read') after.target = a.target;
  const item = requestItem(after);
  $(`approval-${a.id}`)?.replaceWith(item);
  item.querySelector('[data-status-for]').textContent = done;
  say('approvals-status', done);
}

// ---- review ------------------------------------------------------------------------------------------------

function reviewQuery(extra = {}) {
  const q = new URLSearchParams();
  const fields = {
    actor: 'f-actor',
    operation: 'f-operation',
    application_id: 'f-application',
    approval_id: 'f-approval',
    team: 'f-team',
  };
  for (const [name, id] of Object.entries(fields)) if ($(id).value.trim()) q.set(name, $(id).value.trim());
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q;
}

/** The reviewer's own reads are hidden unless asked for: reading the trail must not bury what is under review. */
const ownRead = (e) => e.kind === 'access' && isMe({ sub: e.actor.sub, issuer: e.actor.issuer });

async function loadEvents(reset) {
  $('event-detail').hidden = true;
  if (reset) {
    state.cursor = null;
    $('events').tBodies[0].replaceChildren();
  }
  const showOwn = $('f-own-reads').checked;
  let shown = 0;
  let hidden = 0;
  // A page of the reviewer's own reads would show nothing: read on, a few pages at most.
  for (let pages = 0; pages < 4 && shown < 20; pages++) {
    const q = reviewQuery({ limit: '50', ...(state.cursor ? { cursor: state.cursor } : {}) });
    const { body } = await call(`audit/events?${q}`);
    const rows = body.events.filter((e) => showOwn || !ownRead(e));
    hidden += body.events.length - rows.length;
    shown += rows.length;
    $('events').tBodies[0].append(...rows.map(eventRow));
    state.cursor = body.next_cursor;
    if (!state.cursor) break;
  }
  $('more-events').hidden = !state.cursor;
  const total = $('events').tBodies[0].rows.length;
  if (total === 0)
    $('events').tBodies[0].append(el('tr', {}, el('td', { colSpan: 5, textContent: 'No events match.' })));
  say(
    'review-status',
    `${total} event${total === 1 ? '' : 's'} shown${hidden ? `; ${hidden} of your own reads hidden` : ''}.`,
  );
}

const KIND_WORDS = {
  mutation: 'Change',
  decision: 'Refused or decided',
  access: 'Read',
  system: 'Gateway',
  approval: 'Approval',
};

function eventRow(e) {
  const who = e.actor.sub
    ? personText({ subject: e.actor.sub, issuer: e.actor.issuer, name: e.actor.name, email: e.actor.email })
    : 'the gateway';
  // An access entry is a read of the trail: it has no outcome to wait for.
  const outcome =
    e.kind === 'approval'
      ? 'Recorded'
      : e.kind === 'access'
        ? `Read${e.outcome && e.outcome !== 'success' ? ` (${e.outcome})` : ''}`
        : e.outcome || 'not yet';
  const target = [
    e.target.application_id && `application ${e.target.application_id}`,
    e.approval_id && `approval ${e.approval_id}`,
  ]
    .filter(Boolean)
    .join(', ');
  return el(
    'tr',
    {},
    el(
      'td',
      {},
      el('a', {
        href: `#/review/events/${e.sequence}`,
        textContent: e.time,
        'aria-label': `Event ${e.sequence} at ${e.time}`,
      }),
    ),
    el('td', { textContent: who }),
    el('td', { textContent: `${KIND_WORDS[e.kind] || e.kind}: ${e.operation || ''} ${e.method || ''}`.trim() }),
    el('td', { textContent: target || '—' }),
    el('td', { textContent: outcome }),
  );
}

async function openEvent(sequence) {
  const { body } = await call(`audit/events/${encodeURIComponent(sequence)}`);
  $('event-heading').textContent = `Event ${body.event.sequence}: ${body.event.operation || body.event.kind}`;
  $('event-json').textContent = JSON.stringify(body, null, 2);
  $('event-detail').hidden = false;
  $('event-heading').focus();
}

async function exportEvents(format) {
  const res = await call(`audit/events?${reviewQuery({ format })}`, { raw: true });
  const blob = await res.blob();
  const link = el('a', {
    href: URL.createObjectURL(blob),
    download: `audit-events.${format === 'csv' ? 'csv' : 'ndjson'}`,
  });
  document.body.append(link);
  link.click();
  link.remove();
  say('review-status', `Exported ${format.toUpperCase()} (${blob.size} bytes).`);
}

async function verifyTrail() {
  const { body } = await call('audit/verify');
  say(
    'review-status',
    body.ok
      ? `The trail verifies: ${body.entries} entries, unbroken.`
      : `The trail does not verify: ${body.problem} at ${body.first_bad_sequence} (${body.message}).`,
  );
}

// ---- wiring ------------------------------------------------------------------------------------------------

const onSubmit = (id, action, statusId) =>
  $(id).addEventListener('submit', (e) => {
    e.preventDefault();
    run(() => action(e.target), e.submitter, statusId);
  });

$('sign-out').addEventListener('click', () => run(() => signOut(false), $('sign-out')));
$('sign-out-everywhere').addEventListener('click', () => run(() => signOut(true), $('sign-out-everywhere')));
$('prev-page').addEventListener('click', () => run(async () => ((state.page -= 1), await loadApps()), $('prev-page')));
$('next-page').addEventListener('click', () => run(async () => ((state.page += 1), await loadApps()), $('next-page')));
onSubmit('search-form', async () => {
  state.search = $('search').value.trim();
  state.page = 1;
  await loadApps();
});
onSubmit('create-form', createApp, 'create-status');
onSubmit('edit-form', saveApp, 'detail-status');
onSubmit('webhook-form', addWebhook, 'detail-status');
onSubmit('delete-form', deleteApp, 'detail-status');
onSubmit('approvals-filter', () => loadApprovals(), 'approvals-status');
onSubmit('review-filter', () => loadEvents(true), 'review-status');
$('create-key').addEventListener('click', () => run(createKey, $('create-key'), 'detail-status'));
$('more-events').addEventListener('click', () => run(() => loadEvents(false), $('more-events'), 'review-status'));
$('export-csv').addEventListener('click', () => run(() => exportEvents('csv'), $('export-csv'), 'review-status'));
$('export-ndjson').addEventListener('click', () =>
  run(() => exportEvents('ndjson'), $('export-ndjson'), 'review-status'),
);
$('verify').addEventListener('click', () => run(verifyTrail, $('verify'), 'review-status'));
run(start);
