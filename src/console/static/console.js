// Review console (audit events and approval requests): plain DOM, no framework, no build step; runs under
// helmet's default CSP.
// Everything the trail holds is untrusted (paths, bodies and user agents are whatever a caller sent), so values
// are only ever written with textContent, never as HTML.
// The bearer token lives in memory and sessionStorage (gone when the tab closes), never in localStorage or cookies.

import { approvalsView } from './approvals.js';

const TOKEN_KEY = 'audit-console.token';
const API_BASE = new URL('../v1/', location.href); // relative, so a path-prefixing proxy keeps working
const PAGE_SIZE = 100;
const FILTER_FIELDS = [
  'operation',
  'application_id',
  'team',
  'actor',
  'outcome',
  'decision',
  'kind',
  'approval_id',
  'request_id',
];

/** How each outcome reads at a glance; the badge always spells the outcome out too. */
const OUTCOME_TONE = {
  success: 'good',
  upstream_error: 'bad',
  upstream_unavailable: 'bad',
  upstream_timeout: 'bad',
  upstream_bad_response: 'bad',
  denied: 'bad',
  invalid: 'warn',
  rate_limited: 'warn',
  not_forwarded: 'warn',
  outcome_unknown: 'warn',
  pending: 'info',
};

const $ = (id) => document.getElementById(id);
const state = {
  token: null,
  me: null,
  canReadEvents: false,
  params: new URLSearchParams(),
  cursor: null,
  openSequence: null,
  note: '',
  quietReset: false,
};

// ---- talking to the gateway ------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.error && typeof body.error === 'object' ? body.error : {};
    const where = [e.code, e.request_id && `request ${e.request_id}`].filter(Boolean).join(', ');
    super(`${e.message || `The gateway answered ${status}.`}${where ? ` (${where})` : ''}`);
    this.status = status;
  }
}

/** Times an audit read refused for the caller's reads in progress (`audit_reads_in_flight`) is tried again. */
const IN_FLIGHT_RETRIES = 5;

/**
 * One call to `/v1/…` with the bearer token; throws ApiError unless the answer is 2xx. The console runs several
 * reads at once (events, approvals, a search typed meanwhile): one refused because the caller's other reads are still
 * running waits for its Retry-After and is sent again, instead of failing the search.
 */
async function api(path, { method = 'GET', query, body } = {}) {
  const url = new URL(path, API_BASE);
  if (query) url.search = query.toString();
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    if (res.ok) return res;
    const error = await res.json().catch(() => null);
    const busy = res.status === 429 && error?.error?.details?.[0]?.reason === 'audit_reads_in_flight';
    if (!busy || attempt >= IN_FLIGHT_RETRIES) throw new ApiError(res.status, error);
    const wait = Math.min(5, Number(res.headers.get('Retry-After')) || 1);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
}

const getJson = async (path, options) => (await api(path, options)).json();

/** Runs a user action: the button is disabled meanwhile, failures are shown, a refused token signs out. */
async function run(action, button) {
  if (button) button.disabled = true;
  hideAlert();
  try {
    await action();
  } catch (err) {
    const refused = err instanceof ApiError && err.status === 401;
    if (refused) signOut('The token was refused; it has been forgotten.');
    showAlert(
      refused ? `Your token was refused: ${err.message} Paste a fresh one to continue.` : String(err?.message ?? err),
    );
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- signing in and out ----------------------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  let me;
  try {
    me = await getJson('me');
  } catch (err) {
    forgetToken();
    throw err;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.me = me;
  $('token').value = '';
  const roles = Array.isArray(me.roles) && me.roles.length > 0 ? me.roles.join(', ') : 'none';
  $('whoami').textContent = `${personLabel(me)} (${roles})`;
  $('identity').hidden = false;
  $('sign-in').hidden = true;
  $('workspace').hidden = false;
  setStatus(`Signed in as ${personLabel(me)}.`);
  // Approvers need not hold audit.read. Asking for events without it would only add a refusal to the trail, so the
  // permission decides first; a 403 all the same (a policy changed since) hides the view too.
  const linked = new URLSearchParams(location.search).get('approval_id');
  setEventsAvailable(Array.isArray(me.permissions) && me.permissions.includes('audit.read'), roles);
  if (state.canReadEvents) {
    if (linked) $('f-approval').value = linked;
    try {
      await search();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 403)) throw err;
      setEventsAvailable(false, roles);
    }
  }
  selectTab(state.canReadEvents ? 'events' : 'approvals', false);
  const pending = await approvals.refresh();
  if (state.canReadEvents) $('f-operation').focus();
  else {
    approvals.announce(pending);
    $('tab-approvals').focus();
  }
}

/** Without audit.read the events view is hidden and the approvals view is the console. */
function setEventsAvailable(available, roles) {
  state.canReadEvents = available;
  $('tab-events').hidden = !available;
  $('events-view').hidden = !available;
  $('events-unavailable').hidden = available;
  $('events-unavailable').textContent = available
    ? ''
    : `Your roles (${roles}) do not grant audit.read, so the audit events are hidden; the approval requests you asked for or may approve are below.`;
}

// ---- the two views --------------------------------------------------------------------------------------------

const TABS = ['events', 'approvals'];

function selectTab(name, focus = true) {
  for (const tab of TABS) {
    const selected = tab === name;
    $(`tab-${tab}`).setAttribute('aria-selected', String(selected));
    $(`tab-${tab}`).tabIndex = selected ? 0 : -1;
    $(`${tab}-view`).hidden = !selected || (tab === 'events' && !state.canReadEvents);
  }
  if (focus) $(`tab-${name}`).focus();
}

/** Arrow keys, Home and End move between the visible tabs (the WAI-ARIA tabs pattern); activation follows focus. */
function onTabKey(e) {
  const visible = TABS.filter((t) => !$(`tab-${t}`).hidden);
  const at = visible.indexOf(e.currentTarget.id.replace('tab-', ''));
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: visible.length - 1 }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  activateTab(visible[(to + visible.length) % visible.length]);
}

/** A tab chosen by the user; the approvals view is fetched afresh each time it is shown. */
function activateTab(name) {
  selectTab(name);
  if (name === 'approvals') run(async () => approvals.announce(await approvals.refresh()));
}

/** The link from an approval request to its audit events: the events view, filtered by approval_id. */
async function showEvents(approvalId) {
  state.quietReset = true; // this search replaces the one a reset starts
  $('filters').reset();
  state.quietReset = false;
  $('f-approval').value = approvalId;
  history.replaceState(null, '', `?approval_id=${encodeURIComponent(approvalId)}`);
  selectTab('events', false);
  await search();
  $('results').focus();
}

function forgetToken() {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
}

function signOut(message = 'Signed out. The token has been forgotten.') {
  forgetToken();
  state.me = null;
  approvals.reset();
  setEventsAvailable(true, '');
  selectTab('events', false);
  if (location.search) history.replaceState(null, '', location.pathname);
  $('filters').reset();
  $('events').tBodies[0].replaceChildren();
  $('verify-result').textContent = '';
  closeDetail(false);
  $('identity').hidden = true;
  $('workspace').hidden = true;
  $('sign-in').hidden = false;
  $('whoami').textContent = '';
  setStatus(message);
  $('token').focus();
}

// ---- the filter, the list and "Load more" -------------------------------------------------------------------

/** The form as API query parameters. A leaked key is swapped for its fingerprint by a POST, never put in a URL. */
async function filterParams() {
  const data = new FormData($('filters'));
  const params = new URLSearchParams();
  for (const name of FILTER_FIELDS) {
    const value = String(data.get(name) ?? '').trim();
    if (value) params.set(name, value);
  }
  for (const name of ['since', 'until']) {
    const value = String(data.get(name) ?? '');
    if (value) params.set(name, utcIso(value));
  }
  if (data.get('order') === 'asc') params.set('order', 'asc');
  state.note = '';
  const key = String(data.get('key') ?? '').trim();
  if (key) {
    const found = await getJson('audit/lookup-key', { method: 'POST', body: { key } });
    params.set('key_fingerprint', found.fingerprint);
    state.note = `The key's fingerprint ${found.fingerprint} appears in ${found.entries.length} entries.`;
  }
  return params;
}

/** `datetime-local` has no zone; the console works in UTC throughout, and says so in the labels. */
function utcIso(value) {
  const withSeconds = value.length === 16 ? `${value}:00` : value;
  return new Date(`${withSeconds}Z`).toISOString();
}

async function search() {
  const params = await filterParams();
  const page = await fetchPage(params, null);
  state.params = params;
  closeDetail(false);
  $('events').tBodies[0].replaceChildren();
  showPage(page);
  $('filter-summary').textContent = [describeFilter(params), state.note].filter(Boolean).join(' ');
  announceCount(params.toString() ? 'matching the filter' : 'in the trail');
}

async function loadMore() {
  const before = rowCount();
  showPage(await fetchPage(state.params, state.cursor));
  announceCount('shown');
  $('events').tBodies[0].rows[before]?.querySelector('button')?.focus();
}

function fetchPage(params, cursor) {
  const query = new URLSearchParams(params);
  query.set('limit', String(PAGE_SIZE));
  if (cursor) query.set('cursor', cursor);
  return getJson('audit/events', { query });
}

function showPage({ events, next_cursor }) {
  $('events').tBodies[0].append(...events.map(eventRow));
  state.cursor = next_cursor;
  $('load-more').hidden = !next_cursor;
  $('empty').hidden = rowCount() > 0;
}

const rowCount = () => $('events').tBodies[0].rows.length;

function announceCount(where) {
  const n = rowCount();
  setStatus(`${n} ${n === 1 ? 'event' : 'events'} ${where}${state.cursor ? '; more with "Load more"' : ''}.`);
}

function describeFilter(params) {
  const parts = [...params].map(([k, v]) => `${k} = ${v}`);
  return parts.length ? `Filter: ${parts.join(', ')}.` : 'No filter: every event, newest first.';
}

function eventRow(event) {
  const tr = el('tr');
  tr.dataset.sequence = event.sequence;
  const view = el(
    'button',
    { type: 'button', class: 'secondary', 'aria-label': `View event ${event.sequence}` },
    'View',
  );
  view.addEventListener('click', () => run(() => openEvent(event.sequence), view));
  const actor = event.actor || {};
  const target = targetParts(event.target || {});
  tr.append(
    el('td', {}, timeEl(event.time)),
    el('td', {}, personLabel(actor), sub(actor.sub && personLabel(actor) !== actor.sub ? actor.sub : '')),
    el('td', {}, event.operation || '—', sub(event.method || '')),
    el('td', { class: 'mono' }, target[0] || '—', sub(target.slice(1).join(' · '))),
    el('td', {}, event.team || '—'),
    el('td', {}, outcomeBadge(event.outcome)),
    el(
      'td',
      { class: 'num' },
      event.upstream_status == null ? '—' : String(event.upstream_status),
      sub(event.error_code || ''),
    ),
    el('td', {}, view),
  );
  return tr;
}

function targetParts(target) {
  return [
    target.application_id,
    target.webhook_id && `webhook ${target.webhook_id}`,
    target.apikey_fingerprint && `key ${shorten(target.apikey_fingerprint)}`,
  ].filter(Boolean);
}

// ---- one event in full ----------------------------------------------------------------------------------------

async function openEvent(sequence) {
  const { event, entries } = await getJson(`audit/events/${encodeURIComponent(sequence)}`);
  const actor = event.actor || {};
  const client = event.client || {};
  $('detail-heading').textContent = `Event ${event.sequence} · ${event.operation || event.kind}`;
  const rows = [
    ['Time', event.time],
    ['Completed', event.completed_at || 'not yet (no response entry)'],
    ['Kind', event.kind],
    ['Outcome', outcomeBadge(event.outcome)],
    ['Upstream status', event.upstream_status == null ? '—' : String(event.upstream_status)],
    ['Error code', event.error_code],
    ['Decision', [event.decision, event.reason && `(${event.reason})`].filter(Boolean).join(' ')],
    ['Actor', [personLabel(actor), actor.sub && `sub ${actor.sub}`].filter(Boolean).join(' · ')],
    ['Roles', (actor.roles || []).join(', ')],
    ['Token', [actor.issuer, actor.jti && `jti ${actor.jti}`].filter(Boolean).join(' · ')],
    ['Client', [client.ip, client.user_agent].filter(Boolean).join(' · ')],
    ['Request', [event.method, event.path].filter(Boolean).join(' ')],
    ['Target', targetParts(event.target || {}).join(' · ')],
    ['Team', event.team || (event.target?.application_id ? 'none: no team owned the application then' : '')],
    ['Latency', event.latency_ms == null ? '' : `${event.latency_ms} ms`],
    ['Request id', event.request_id],
    ['Client request id', event.client_request_id ? `${event.client_request_id} (sent by the client, not unique)` : ''],
    ['Event id', event.event_id],
  ];
  $('detail-summary').replaceChildren(
    ...rows.filter(([, v]) => v).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
  );
  $('detail-entries').replaceChildren(...entries.map(entryBlock));
  state.openSequence = event.sequence;
  for (const tr of $('events').tBodies[0].rows) {
    if (tr.dataset.sequence === event.sequence) tr.setAttribute('aria-current', 'true');
    else tr.removeAttribute('aria-current');
  }
  $('detail').hidden = false;
  document.querySelector('.split').classList.add('with-detail');
  $('detail-heading').focus();
  setStatus(
    `Showing event ${event.sequence} with ${entries.length} raw ${entries.length === 1 ? 'entry' : 'entries'}.`,
  );
}

function entryBlock(entry) {
  const label = [`Entry ${entry.sequence}`, entry.kind, entry.outcome].filter(Boolean).join(' · ');
  return el(
    'details',
    { class: 'entry', open: '' },
    el('summary', {}, label),
    el('pre', {}, JSON.stringify(entry, null, 2)),
  );
}

function closeDetail(restoreFocus = true) {
  const sequence = state.openSequence;
  state.openSequence = null;
  $('detail').hidden = true;
  document.querySelector('.split').classList.remove('with-detail');
  for (const tr of $('events').tBodies[0].rows) tr.removeAttribute('aria-current');
  if (restoreFocus && sequence) {
    const row = [...$('events').tBodies[0].rows].find((tr) => tr.dataset.sequence === sequence);
    row?.querySelector('button')?.focus();
  }
}

// ---- export and verification ------------------------------------------------------------------------------

/** Downloads the filter the table shows. A plain link cannot carry the Authorization header, hence fetch + Blob. */
async function exportAs(format) {
  const query = new URLSearchParams(state.params);
  query.set('format', format);
  setStatus(`Preparing the ${format.toUpperCase()} export…`);
  const res = await api('audit/events', { query });
  const blob = await res.blob();
  const name = filenameFrom(res.headers.get('Content-Disposition')) || `audit-events.${format}`;
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: name, hidden: '' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  setStatus(`Exported ${name} (${formatBytes(blob.size)}).`);
}

function filenameFrom(disposition) {
  if (!disposition) return null;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(disposition);
  let name;
  try {
    name = extended ? decodeURIComponent(extended[1].trim()) : plain ? (plain[1] ?? plain[2]).trim() : null;
  } catch {
    name = null;
  }
  return name ? name.replace(/[\\/]/g, '_') : null;
}

async function verify() {
  const out = $('verify-result');
  out.className = 'verify-result';
  out.textContent = 'Verifying the whole chain…';
  const result = await getJson('audit/verify');
  if (result.ok) {
    out.classList.add('ok');
    out.textContent = `OK: the chain is intact (${result.entries} entries, last sequence ${result.last_sequence}).`;
  } else {
    out.classList.add('bad');
    out.textContent = `FAILED: ${result.problem} at sequence ${result.first_bad_sequence}. ${result.message || ''} (${result.entries} entries checked)`;
  }
}

// ---- small DOM helpers --------------------------------------------------------------------------------------------

/** createElement with attributes and children; strings become text nodes, so nothing is parsed as HTML. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children.filter((c) => c !== '' && c != null));
  return node;
}

const sub = (text) => (text ? el('span', { class: 'sub' }, text) : '');

/** Date above time, to keep the column narrow; the full microsecond value is in the tooltip and the detail. */
function timeEl(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const [day, time] = date.toISOString().slice(0, 19).split('T');
  return el('time', { datetime: iso, title: iso }, day, sub(time));
}

function outcomeBadge(outcome) {
  if (!outcome) return el('span', { class: 'badge neutral' }, 'n/a');
  const text = outcome.replace(/_/g, ' ');
  return el(
    'span',
    { class: `badge ${OUTCOME_TONE[outcome] || 'neutral'}` },
    text.charAt(0).toUpperCase() + text.slice(1),
  );
}

function personLabel(person) {
  if (person.name && person.email) return `${person.name} <${person.email}>`;
  return person.name || person.email || person.sub || 'unknown';
}

const shorten = (value) => (value.length > 28 ? `${value.slice(0, 26)}…` : value);
const formatBytes = (n) => (n < 1024 ? `${n} bytes` : `${(n / 1024).toFixed(1)} KiB`);

function setStatus(message) {
  $('status').textContent = message;
}

function showAlert(message) {
  $('alert').textContent = message;
  $('alert').hidden = false;
}

function hideAlert() {
  $('alert').hidden = true;
  $('alert').textContent = '';
}

// ---- wiring ---------------------------------------------------------------------------------------------------

const approvals = approvalsView({
  getJson,
  run,
  el,
  sub,
  timeEl,
  personLabel,
  setStatus,
  me: () => state.me,
  canReadEvents: () => state.canReadEvents,
  showEvents,
});

$('sign-in-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('token')
    .value.trim()
    .replace(/^Bearer\s+/i, '');
  if (token) run(() => signIn(token), e.submitter);
});
$('sign-out').addEventListener('click', () => signOut());
$('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  run(search, e.submitter);
});
// The form clears itself after this event; search once it has.
$('filters').addEventListener('reset', () => {
  if (state.quietReset) return;
  if (location.search) history.replaceState(null, '', location.pathname); // a followed link's filter is cleared too
  setTimeout(() => state.token && run(search));
});
$('load-more').addEventListener('click', (e) => run(loadMore, e.currentTarget));
$('export-csv').addEventListener('click', (e) => run(() => exportAs('csv'), e.currentTarget));
$('export-ndjson').addEventListener('click', (e) => run(() => exportAs('ndjson'), e.currentTarget));
$('verify').addEventListener('click', (e) => run(verify, e.currentTarget));
$('detail-close').addEventListener('click', () => closeDetail());
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape') return;
  if (!$('approvals-view').hidden && approvals.isOpen()) approvals.close();
  else if (!$('events-view').hidden && state.openSequence) closeDetail();
});
for (const tab of TABS) {
  $(`tab-${tab}`).addEventListener('click', () => activateTab(tab));
  $(`tab-${tab}`).addEventListener('keydown', onTabKey);
}

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) run(() => signIn(saved));
else $('token').focus();
