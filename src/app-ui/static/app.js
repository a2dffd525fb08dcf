// The staff UI: plain DOM, no framework, no CDN. Everything it shows comes from the public /v1 API, reached
// with the session cookie (HttpOnly: this script never sees it) and the CSRF header every such call must carry.
const API = '../v1/';
const CSRF = { 'X-Requested-With': 'kloudless-gateway' };
const PAGE_SIZE = 10;

const $ = (id) => document.getElementById(id);
const state = { me: null, page: 1, total: 0, app: null };

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
async function call(path, { method = 'GET', body, headers = {} } = {}) {
  const res = await fetch(path.startsWith('../') ? path : `${API}${path}`, {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { ...CSRF, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, parsed);
  return { status: res.status, body: parsed };
}

function setStatus(text) {
  $('status').textContent = text;
}

function showAlert(text) {
  $('alert').textContent = text;
  $('alert').hidden = false;
}

async function run(action, button) {
  if (button) button.disabled = true;
  $('alert').hidden = true;
  try {
    await action();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      showSignIn('Your session has ended. Sign in again.');
      return;
    }
    showAlert(String(err && err.message ? err.message : err));
  } finally {
    if (button) button.disabled = false;
  }
}

const may = (permission) => Boolean(state.me && state.me.permissions.includes(permission));

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

/** A short visible label; the accessible name says what it acts on (a list of "Remove" buttons is no help). */
function button(text, label, onClick, className = 'secondary') {
  const b = el('button', { type: 'button', className, textContent: text });
  b.setAttribute('aria-label', label);
  b.addEventListener('click', () => run(() => onClick(b), b));
  return b;
}

// ---- signing in and out ------------------------------------------------------------------------------------

async function start() {
  const { body } = await call('../auth/session');
  if (!body.authenticated) return showSignIn('');
  state.me = (await call('me')).body;
  $('whoami').textContent =
    `${body.name || body.sub} (${body.roles.join(', ') || 'no role'}${body.teams.length ? `; team ${body.teams.join(', ')}` : ''})`;
  $('identity').hidden = false;
  $('sign-in').hidden = true;
  $('workspace').hidden = false;
  $('create-form').hidden = !may('applications.create');
  const teams = state.me.teams;
  $('new-team-field').hidden = teams.length < 2;
  $('new-team').replaceChildren(...teams.map((t) => el('option', { value: t, textContent: t })));
  setStatus(`Signed in as ${body.name || body.sub}.`);
  await Promise.all([loadApps(), loadApprovals()]);
}

function showSignIn(message) {
  state.me = null;
  $('identity').hidden = true;
  $('workspace').hidden = true;
  $('sign-in').hidden = false;
  setStatus(message);
}

async function signOut() {
  const { body } = await call('../auth/logout', { method: 'POST' });
  // Then at the identity provider too (RP-initiated logout), which sends the browser back here.
  if (body.end_session_url) window.location.assign(body.end_session_url);
  else showSignIn('Signed out.');
}

// ---- applications ------------------------------------------------------------------------------------------

async function loadApps() {
  const { body } = await call(`applications?page=${state.page}&page_size=${PAGE_SIZE}`);
  state.total = body.total ?? body.count ?? body.objects.length;
  const pages = Math.max(1, Math.ceil(state.total / PAGE_SIZE));
  $('apps').tBodies[0].replaceChildren(
    ...body.objects.map((app) =>
      el(
        'tr',
        {},
        el('td', { textContent: app.name }),
        el('td', {}, el('code', { textContent: app.id })),
        el('td', { textContent: app.active === false ? 'no' : 'yes' }),
        el(
          'td',
          {},
          button('Open', `Open ${app.name}`, () => openApp(app.id)),
        ),
      ),
    ),
  );
  if (body.objects.length === 0)
    $('apps').tBodies[0].append(el('tr', {}, el('td', { colSpan: 4, textContent: 'No applications.' })));
  $('page-info').textContent = `Page ${state.page} of ${pages} (${state.total} applications)`;
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
  setStatus(`Created ${app.name}.`);
  await loadApps();
  await openApp(app.id);
}

async function openApp(id) {
  const { body: app } = await call(`applications/${encodeURIComponent(id)}`);
  state.app = app;
  $('detail').hidden = false;
  $('detail-heading').textContent = `Application ${app.name}`;
  $('detail-id').textContent = app.id;
  $('edit-name').value = app.name;
  $('edit-description').value = app.description || '';
  $('edit-active').checked = app.active !== false;
  $('edit-form').hidden = !may('applications.update');
  $('webhook-form').hidden = !may('webhooks.create');
  $('create-key').hidden = !may('apikeys.create');
  $('delete-app').hidden = !may('applications.delete');
  $('delete-reason').hidden = !may('applications.delete');
  $('delete-reason').previousElementSibling.hidden = !may('applications.delete');
  await Promise.all([loadWebhooks(), loadKeys()]);
  $('detail-heading').focus();
}

async function saveApp() {
  const body = {
    name: $('edit-name').value.trim(),
    description: $('edit-description').value,
    active: $('edit-active').checked,
  };
  const { body: app } = await call(`applications/${encodeURIComponent(state.app.id)}`, { method: 'PATCH', body });
  setStatus(`Saved ${app.name}.`);
  await loadApps();
  await openApp(app.id);
}

async function loadWebhooks() {
  const list = $('webhooks');
  if (!may('webhooks.list')) return list.replaceChildren(el('li', { textContent: 'Your roles do not show webhooks.' }));
  const { body } = await call(`applications/${encodeURIComponent(state.app.id)}/webhooks?page_size=100`);
  list.replaceChildren(
    ...body.objects.map((hook) =>
      el(
        'li',
        {},
        el('code', { textContent: hook.url }),
        ...(may('webhooks.delete') ? [button('Remove', `Remove webhook ${hook.url}`, () => removeWebhook(hook))] : []),
      ),
    ),
  );
  if (body.objects.length === 0) list.append(el('li', { textContent: 'No webhooks.' }));
}

async function addWebhook(form) {
  const url = String(new FormData(form).get('url')).trim();
  await call(`applications/${encodeURIComponent(state.app.id)}/webhooks`, { method: 'POST', body: { url } });
  form.reset();
  setStatus(`Added webhook ${url}.`);
  await loadWebhooks();
}

async function removeWebhook(hook) {
  await call(`applications/${encodeURIComponent(state.app.id)}/webhooks/${encodeURIComponent(hook.id)}`, {
    method: 'DELETE',
  });
  setStatus(`Removed webhook ${hook.url}.`);
  await loadWebhooks();
}

async function loadKeys() {
  const list = $('apikeys');
  if (!may('apikeys.list')) {
    $('keys-hint').textContent = 'Your roles do not show API keys.';
    return list.replaceChildren();
  }
  $('keys-hint').textContent = may('apikeys.reveal')
    ? 'Shown in full: your roles may reveal them. Treat them as passwords.'
    : 'Masked: your roles may not reveal key values.';
  const { body } = await call(`applications/${encodeURIComponent(state.app.id)}/apikeys?page_size=100`);
  list.replaceChildren(
    ...body.objects.map((key) => {
      const masked = key.key.startsWith('****');
      const canDelete = may('apikeys.delete') && !masked;
      return el(
        'li',
        {},
        el('code', { textContent: key.key }),
        ...(canDelete
          ? [button('Delete', `Delete API key ending ${key.key.slice(-4)}`, () => deleteKey(key.key))]
          : []),
      );
    }),
  );
  if (body.objects.length === 0) list.append(el('li', { textContent: 'No API keys.' }));
}

async function createKey() {
  const res = await call(`applications/${encodeURIComponent(state.app.id)}/apikeys`, { method: 'POST', body: {} });
  if (!guarded(res, 'The new API key')) setStatus('Created an API key.');
  await Promise.all([loadKeys(), loadApprovals()]);
}

async function deleteKey(key) {
  const res = await call(`applications/${encodeURIComponent(state.app.id)}/apikeys/${encodeURIComponent(key)}`, {
    method: 'DELETE',
  });
  if (!guarded(res, 'Deleting the API key')) setStatus('Deleted the API key.');
  await Promise.all([loadKeys(), loadApprovals()]);
}

async function deleteApp() {
  const reason = $('delete-reason').value.trim();
  const res = await call(`applications/${encodeURIComponent(state.app.id)}`, {
    method: 'DELETE',
    headers: reason ? { 'X-Approval-Reason': reason } : {},
  });
  if (!guarded(res, `Deleting ${state.app.name}`)) {
    setStatus(`Deleted ${state.app.name}.`);
    $('detail').hidden = true;
    await loadApps();
  }
  await loadApprovals();
}

/** A 202: the two-person rule turned the call into an approval request. Says so; true when it did. */
function guarded(res, what) {
  if (res.status !== 202 || !res.body || !res.body.approval) return false;
  setStatus(`${what} is waiting for approval (request ${res.body.approval.id}).`);
  return true;
}

// ---- approvals ---------------------------------------------------------------------------------------------

/** The application by its name as the Management API has it now (and its id); the path when none is named. */
function targetLabel(a) {
  const t = a.target;
  if (!t.application_id) return a.path;
  if (t.name) return `“${t.name}” (${t.application_id})`;
  return `${t.application_id} (${t.name_status === 'not_found' ? 'deleted' : 'name unavailable'})`;
}

/** A person as verified (subject at issuer, or email) beside the display name their token carries. */
function personText(p) {
  const verified = `${p.subject}${p.issuer ? ` at ${p.issuer}` : ''}`;
  return p.name ? `${p.name} [${verified}]` : verified;
}

const samePerson = (p, me) => p.subject === me.sub && (p.issuer ?? null) === (me.issuer ?? null);

async function loadApprovals() {
  const { body } = await call('approvals?limit=50');
  const list = $('approvals');
  list.replaceChildren(
    ...body.approvals.map((a) => {
      const what = `${a.operation} of ${targetLabel(a)}`;
      const line = el(
        'li',
        { id: `approval-${a.id}` },
        el('span', { className: a.state === 'pending' ? 'state-pending' : '', textContent: `${a.state}` }),
        ` ${what} · team ${a.team || 'none'} · asked by ${personText(a.requested_by)}${a.reason ? ` (“${a.reason}”)` : ''} · ${a.approvals.length}/${a.approvals_needed} approvals`,
      );
      const mine = samePerson(a.requested_by, state.me);
      if (a.state === 'pending' && !mine)
        line.append(
          button('Approve', `Approve ${what}`, () => decide(a, 'approve'), ''),
          button('Deny', `Deny ${what}`, () => decide(a, 'deny')),
        );
      if (a.state === 'pending' && mine) line.append(button('Cancel', `Cancel ${what}`, () => decide(a, 'cancel')));
      return line;
    }),
  );
  if (body.approvals.length === 0) list.append(el('li', { textContent: 'No approval requests you can see.' }));
}

async function decide(approval, action) {
  const body = action === 'deny' ? { reason: window.prompt('Why do you deny this request?') || '' } : {};
  const { body: result } = await call(`approvals/${encodeURIComponent(approval.id)}/${action}`, {
    method: 'POST',
    body,
  });
  setStatus(`Request ${approval.id} is now ${result.approval ? result.approval.state : 'updated'}.`);
  await Promise.all([loadApprovals(), loadApps()]);
}

// ---- wiring ------------------------------------------------------------------------------------------------

$('sign-out').addEventListener('click', () => run(signOut, $('sign-out')));
$('prev-page').addEventListener('click', () =>
  run(async () => {
    state.page -= 1;
    await loadApps();
  }, $('prev-page')),
);
$('next-page').addEventListener('click', () =>
  run(async () => {
    state.page += 1;
    await loadApps();
  }, $('next-page')),
);
$('create-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(() => createApp(e.target), e.submitter);
});
$('edit-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(saveApp, e.submitter);
});
$('webhook-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(() => addWebhook(e.target), e.submitter);
});
$('create-key').addEventListener('click', () => run(createKey, $('create-key')));
$('delete-app').addEventListener('click', () => run(deleteApp, $('delete-app')));
$('refresh-approvals').addEventListener('click', () => run(loadApprovals, $('refresh-approvals')));
run(start);
