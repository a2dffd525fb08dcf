// The Approvals view: the two-person rule's requests (issue 14). What the caller may see is the gateway's decision
// (requesters their own, approvers what they may approve, audit.read holders all); approving, denying and
// cancelling are the gateway's too, and its refusals (self-approval, expired, …) are shown exactly as it words them.
// As in console.js, every value is written with textContent, never as HTML.

/** How each state reads at a glance; the badge always spells it out too. */
const STATE_TONE = {
  pending: 'info',
  executing: 'info',
  executed: 'good',
  failed: 'bad',
  denied: 'bad',
  cancelled: 'neutral',
  expired: 'warn',
  outcome_unknown: 'warn',
};

const $ = (id) => document.getElementById(id);

/**
 * @param ui the console's helpers: getJson, run, el, sub, timeEl, personLabel, setStatus, me() (the signed-in
 *   caller), canReadEvents() and showEvents(approvalId) (the link from a request to its audit events).
 */
export function approvalsView(ui) {
  const { el, sub } = ui;
  const view = { openId: null, shown: null, pendingCount: 0 };

  async function refresh() {
    const [pending, history] = await Promise.all([list('pending'), list($('h-state').value)]);
    fill('pending', pending, pendingRow);
    fill('history', history, historyRow);
    view.pendingCount = pending.length;
    $('tab-approvals').textContent = pending.length ? `Approvals (${pending.length} pending)` : 'Approvals';
    return pending.length;
  }

  async function list(state) {
    const query = new URLSearchParams({ limit: '100' });
    if (state) query.set('state', state);
    return (await ui.getJson('approvals', { query })).approvals;
  }

  function fill(table, approvals, row) {
    $(table).tBodies[0].replaceChildren(...approvals.map(row));
    $(`${table}-empty`).hidden = approvals.length > 0;
    markOpen();
  }

  function openButton(a) {
    const button = el(
      'button',
      { type: 'button', class: 'secondary', 'aria-label': `Open the request to ${describe(a)}` },
      'Open',
    );
    button.addEventListener('click', () => ui.run(() => open(a.id), button));
    return button;
  }

  function pendingRow(a) {
    const tr = el('tr');
    tr.dataset.id = a.id;
    tr.append(
      el('td', {}, a.operation, sub(a.method)),
      el('td', { class: 'mono' }, targetLabel(a)),
      el('td', {}, a.team || '—'),
      el('td', {}, ui.personLabel(a.requested_by), sub(verified(a.requested_by))),
      el('td', { class: 'reason' }, a.reason || '—'),
      el('td', {}, relativeTime(a.created_at), sub(`expires ${relative(a.expires_at)}`)),
      el('td', { class: 'num' }, `${a.approvals.length} of ${a.approvals_needed}`),
      el('td', {}, openButton(a)),
    );
    return tr;
  }

  function historyRow(a) {
    const tr = el('tr');
    tr.dataset.id = a.id;
    tr.append(
      el('td', {}, ui.timeEl(a.created_at)),
      el('td', {}, a.operation, sub(a.method)),
      el('td', { class: 'mono' }, targetLabel(a)),
      el('td', {}, ui.personLabel(a.requested_by), sub(verified(a.requested_by))),
      el('td', {}, stateBadge(a.state)),
      // Who ended it (denied, cancelled), or who approved what ran.
      el('td', {}, a.ended_by || a.approvals.map((v) => v.by.subject).join(', ') || '—', sub(a.end_reason || '')),
      el('td', {}, openButton(a)),
    );
    return tr;
  }

  // ---- one request in full -------------------------------------------------------------------------------

  async function open(id) {
    const { approval, result_body: resultBody } = await ui.getJson(`approvals/${encodeURIComponent(id)}`);
    show(approval, resultBody);
    $('approval-heading').focus();
  }

  function show(a, resultBody) {
    view.openId = a.id;
    view.shown = a;
    $('approval-heading').textContent = `Approval request · ${a.operation} · ${stateText(a.state)}`;
    const votes = `${a.approvals.length} of ${a.approvals_needed}`;
    const rows = [
      ['State', stateBadge(a.state)],
      ['Operation', `${a.operation} (${a.method})`],
      ['Target', targetLabel(a)],
      ['Path', a.path],
      ['Team', a.team || 'none'],
      ['Requested by', `${ui.personLabel(a.requested_by)} · verified: ${verified(a.requested_by)}`],
      ['Reason', a.reason || 'none given'],
      ['Asked', `${a.created_at} (${relative(a.created_at)})`],
      [a.state === 'pending' ? 'Expires' : 'Expiry', `${a.expires_at} (${relative(a.expires_at)})`],
      ['Approvals', a.approver_roles.length ? `${votes}, by ${a.approver_roles.join(' or ')}` : votes],
      ['Ended', a.ended_at ? `${a.ended_at} by ${a.ended_by}` : ''],
      ['End reason', a.end_reason],
      [
        'Result',
        a.result
          ? [a.result.status != null && `Management API answered ${a.result.status}`, a.result.error]
              .filter(Boolean)
              .join(' · ')
          : '',
      ],
      ['Input hash', a.input_hash],
      ['Id', a.id],
    ];
    $('approval-summary').replaceChildren(
      ...rows.filter(([, v]) => v).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
    );
    $('approval-votes').replaceChildren(
      ...(a.approvals.length
        ? a.approvals.map((v) =>
            el('li', {}, `${ui.personLabel(v.by)} (${verified(v.by)}) at ${v.at}`, v.reason ? `: ${v.reason}` : ''),
          )
        : [el('li', { class: 'hint' }, 'None yet.')]),
    );
    // The request as the API shows it (API key values already masked by the gateway).
    $('approval-request').textContent = JSON.stringify(a, null, 2);
    $('approval-result').hidden = resultBody === null || resultBody === undefined;
    $('approval-result-body').textContent = resultBody == null ? '' : JSON.stringify(resultBody, null, 2);

    const me = ui.me();
    const mine = a.requested_by.subject === me.sub && (a.requested_by.issuer ?? null) === (me.issuer ?? null);
    const pending = a.state === 'pending';
    $('approval-actions').hidden = !pending;
    $('approval-own').hidden = !(pending && mine);
    $('approval-cancel').hidden = !mine;
    for (const form of ['approve-form', 'deny-form']) $(form).reset();
    $('approval-events').hidden = !ui.canReadEvents();
    $('approval-events-link').href = `?approval_id=${encodeURIComponent(a.id)}`;

    $('approval-detail').hidden = false;
    $('approvals-split').classList.add('with-detail');
    markOpen();
  }

  function markOpen() {
    for (const tr of document.querySelectorAll('#pending tbody tr, #history tbody tr')) {
      if (tr.dataset.id === view.openId) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
    }
  }

  function close(restoreFocus = true) {
    const id = view.openId;
    view.openId = null;
    $('approval-detail').hidden = true;
    $('approvals-split').classList.remove('with-detail');
    markOpen();
    if (restoreFocus && id) {
      const row = document.querySelector(
        `#pending tbody tr[data-id="${CSS.escape(id)}"], #history tbody tr[data-id="${CSS.escape(id)}"]`,
      );
      row?.querySelector('button')?.focus();
    }
  }

  // ---- approve, deny, cancel -----------------------------------------------------------------------------------

  async function act(action, body) {
    const answer = await ui.getJson(`approvals/${encodeURIComponent(view.openId)}/${action}`, { method: 'POST', body });
    // Answers to actions do not read the application's name again: the one shown a moment ago stands.
    if (answer.approval.target.name_status === 'not_read' && view.shown?.id === answer.approval.id)
      answer.approval.target = view.shown.target;
    // Shown from the answer itself: a team-scoped approver may no longer see the request once the application it
    // deleted has no owner, so reading it again could be a 404.
    show(answer.approval, answer.upstream?.body ?? null);
    ui.setStatus(outcomeMessage(action, answer, answer.approval));
    $('approval-heading').focus();
    await refresh();
  }

  function outcomeMessage(action, answer, a) {
    if (action === 'deny') return `Denied: ${a.operation} on ${targetLabel(a)} will not run.`;
    if (action === 'cancel') return `Cancelled: ${a.operation} on ${targetLabel(a)} will not run.`;
    const upstream = answer.upstream;
    if (a.state === 'executed')
      return `Approved and executed: the Management API answered ${upstream?.status ?? a.result?.status}.`;
    if (a.state === 'failed')
      return `Approved, but the execution failed: ${upstream?.error || `the Management API answered ${upstream?.status ?? a.result?.status}`}. It is never retried: ask again.`;
    return `Approved: ${a.approvals.length} of ${a.approvals_needed} approvals.`;
  }

  // ---- wiring ------------------------------------------------------------------------------------------------

  $('approve-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const reason = $('approve-reason').value.trim();
    ui.run(() => act('approve', reason ? { reason } : {}), e.submitter);
  });
  // `required` on the reason lets the browser refuse an empty deny before it is sent; the gateway refuses one too.
  $('deny-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const reason = $('deny-reason').value.trim();
    if (!reason) {
      $('deny-reason').value = '';
      $('deny-form').reportValidity();
      return;
    }
    ui.run(() => act('deny', { reason }), e.submitter);
  });
  $('approval-cancel').addEventListener('click', (e) => ui.run(() => act('cancel'), e.currentTarget));
  $('approval-close').addEventListener('click', () => close());
  $('approvals-refresh').addEventListener('click', (e) =>
    ui.run(async () => announce(await refresh()), e.currentTarget),
  );
  $('history-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    ui.run(async () => {
      await refresh();
      const n = $('history').tBodies[0].rows.length;
      ui.setStatus(
        `${n} ${n === 1 ? 'request' : 'requests'} in the history${$('h-state').value ? ` in state ${$('h-state').value}` : ''}.`,
      );
    }, e.submitter);
  });
  $('approval-events-link').addEventListener('click', (e) => {
    e.preventDefault();
    if (view.openId) ui.run(() => ui.showEvents(view.openId));
  });

  function announce(pending) {
    ui.setStatus(
      pending
        ? `${pending} ${pending === 1 ? 'request is' : 'requests are'} waiting for approval.`
        : 'Nothing is waiting for approval.',
    );
  }

  function reset() {
    close(false);
    $('pending').tBodies[0].replaceChildren();
    $('history').tBodies[0].replaceChildren();
    $('history-filter').reset();
    $('tab-approvals').textContent = 'Approvals';
  }

  return { refresh, announce, reset, close, isOpen: () => view.openId !== null };

  // ---- small helpers ---------------------------------------------------------------------------------------

  function stateBadge(state) {
    return el('span', { class: `badge ${STATE_TONE[state] || 'neutral'}` }, stateText(state));
  }

  function relativeTime(iso) {
    return el('time', { datetime: iso, title: iso }, relative(iso));
  }
}

function stateText(state) {
  const text = String(state).replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describe(a) {
  return `${a.operation} on ${targetLabel(a)}`;
}

/** The application by its name as the Management API has it now, and its id; the path when none is named. */
function targetLabel(a) {
  const t = a.target;
  if (!t.application_id) return a.path;
  if (t.name) return `${t.name} (${t.application_id})`;
  const why = t.name_status === 'not_found' ? 'deleted' : 'name unavailable';
  return `${t.application_id} (${why})`;
}

/** The verified identity (subject, issuer) beside the display name, which the token's owner chose. */
function verified(p) {
  return `${p.subject}${p.issuer ? ` at ${p.issuer}` : ''}`;
}

const RELATIVE = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "3 minutes ago", "in 57 minutes": the age of a request and the time left to approve it. */
function relative(iso) {
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const units = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  for (const [unit, size] of units)
    if (Math.abs(seconds) >= size) return RELATIVE.format(Math.round(seconds / size), unit);
  return RELATIVE.format(seconds, 'second');
}
