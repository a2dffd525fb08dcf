import type { ErrorCode } from './codes';

/**
 * Every reason id, declared once like the error codes, in two tables:
 * - DECISION_REASONS: what a policy, ownership or approval decision records (the audit trail's `reason` column and
 *   the error details carry them); docs/access-control.md's reasons table is checked against it;
 * - ERROR_REASONS: why a request was refused or failed, in `error.details[].reason` and the request log's
 *   `error_reason`, with the error code each comes with; docs/errors.md is checked against it.
 */
export const DECISION_REASONS = {
  role_grants_permission: "One of the caller's roles grants the permission (the entry names the role's scope).",
  no_roles_in_token: 'The token carries no role.',
  no_role_grants_permission: "None of the caller's roles grants the permission.",
  not_owner:
    'A `team`-scoped caller named an application owned by another team (answered 404, as if it did not exist).',
  unowned: 'A `team`-scoped caller named an application no team owns, or that does not exist (answered 404).',
  no_team: 'A create by a caller whose token names no team: every application the gateway creates has an owner.',
  team_required: 'A create by a caller in several teams (or an `any`-scoped caller) without `X-Team` naming the owner.',
  not_team_member: '`X-Team` names a team the `team`-scoped caller is not in.',
  unknown_team:
    "An ownership change names a team that owns no application and is not one of the caller's teams (a typo guard; `allow_new_team` overrides).",
  already_owner: 'An ownership change to the team that already owns the application.',
  approval_required:
    "The operation needs a second person's approval: it was recorded as an approval request (202), not forwarded.",
  approval_granted:
    "The entries of an approved request's execution: every needed approval arrived (the approvers are named in the details).",
  approval_bypassed:
    'A holder of `approvals.bypass` ran a guarded operation at once, with a reason (break-glass; notified).',
  self_approval:
    'The requester (the same issuer and subject, or the same email in canonical form) tried to approve or deny their own request.',
  already_approved:
    'Someone who already approved the request under another account (the same email in canonical form) tried to approve or deny it again.',
  no_longer_allowed:
    'An approved request was decided again when it ran: the requester, or enough of its approvers, are no longer allowed it on the target as it stands now (owner, template, policy). It ended `failed`; nothing was forwarded.',
  not_an_approver: "The approver holds none of the roles the operation's rule names in `approvers`.",
  not_requester: 'Only the person who asked may cancel an approval request.',
  approval_pending: 'A request for the same operation and target is already pending (its id is in the details).',
  approval_not_pending: 'The approval request has already ended (executed, failed, denied or cancelled).',
  approval_expired: 'The approval request expired before it got its approvals.',
} as const;

export type DecisionReason = keyof typeof DECISION_REASONS;
export type DenialReason = Exclude<DecisionReason, 'role_grants_permission'>;

const TOKEN = 'invalid_token';
const SIGN_IN = 'sign_in_failed';

export const ERROR_REASONS = {
  // A bearer token refused (src/auth/verifier.ts).
  malformed: { codes: [TOKEN], meaning: 'The token is not a well-formed JWT.' },
  algorithm_not_allowed: { codes: [TOKEN], meaning: 'The token is signed with an algorithm outside JWT_ALGORITHMS.' },
  unknown_key: { codes: [TOKEN], meaning: "The token's `kid` is not in the key set, even after a refresh." },
  bad_signature: { codes: [TOKEN], meaning: 'The signature does not verify.' },
  expired: { codes: [TOKEN], meaning: 'The token is past its `exp` (beyond the allowed clock skew).' },
  not_yet_valid: { codes: [TOKEN], meaning: 'The token is before its `nbf`.' },
  issued_in_future: { codes: [TOKEN], meaning: "The token's `iat` is in the future (beyond the allowed clock skew)." },
  missing_exp: { codes: [TOKEN], meaning: 'The token has no `exp`.' },
  lifetime_too_long: { codes: [TOKEN], meaning: 'The token lives longer than JWT_MAX_LIFETIME_S.' },
  wrong_issuer: { codes: [TOKEN], meaning: "The token's `iss` is not JWT_ISSUER." },
  wrong_audience: { codes: [TOKEN], meaning: "The token's `aud` does not include JWT_AUDIENCE." },
  missing_sub: { codes: [TOKEN], meaning: 'The token names no subject.' },
  unsupported_critical_header: {
    codes: [TOKEN],
    meaning: 'The token has a `crit` header the gateway does not understand.',
  },
  invalid_teams_claim: {
    codes: [TOKEN, SIGN_IN],
    meaning: 'The teams claim (JWT_TEAMS_CLAIM) is not a list of team names.',
  },
  invalid_claim_text: {
    codes: [TOKEN, SIGN_IN],
    meaning:
      'An identity claim (`sub`, `iss`, `email`, `name`, `preferred_username`) holds NUL, another control character or a lone surrogate.',
  },
  session_ended: {
    codes: ['unauthenticated'],
    meaning: 'The session cookie names a session that has ended, expired or never existed.',
  },
  csrf_header_missing: {
    codes: ['csrf_header_missing'],
    meaning: 'A cookie-authenticated request without `X-Requested-With: kloudless-gateway`.',
  },
  // Browser sign-in (src/auth/oidc/client.ts, src/session/routes.ts).
  no_sign_in_in_progress: { codes: [SIGN_IN], meaning: 'No sign-in was started from this browser, or two were.' },
  sign_in_cookie_invalid: { codes: [SIGN_IN], meaning: "The sign-in cookie's signature or content is not valid." },
  sign_in_expired: { codes: [SIGN_IN], meaning: 'The sign-in took longer than its window.' },
  sign_in_replayed: {
    codes: [SIGN_IN],
    meaning: 'This sign-in (its cookie) was used already: each completes at most one sign-in.',
  },
  no_id_token: { codes: [SIGN_IN], meaning: 'The identity provider answered the code exchange without an ID token.' },
  identity_provider_refused: {
    codes: [SIGN_IN],
    meaning: 'The identity provider answered the authorization request with an error.',
  },
  token_request_refused: { codes: [SIGN_IN], meaning: 'The identity provider refused the code exchange.' },
  invalid_response: {
    codes: [SIGN_IN],
    meaning: "The identity provider's answer failed a check (state, nonce, PKCE, issuer, signature, claims).",
  },
  identity_provider_unreachable: {
    codes: ['sign_in_unavailable'],
    meaning: 'The identity provider could not be reached.',
  },
  // Request bodies and targets (src/http/json-body.ts, src/http/error-handler.ts, src/pipeline/resolve-action.ts).
  body_too_large: { codes: ['payload_too_large'], meaning: 'The body is larger than BODY_LIMIT.' },
  invalid_json: { codes: ['invalid_json'], meaning: 'The body does not parse as JSON.' },
  invalid_utf8: { codes: ['validation_failed'], meaning: 'The body is not valid UTF-8.' },
  unexpected_body: { codes: ['validation_failed'], meaning: 'A body was sent to an operation that takes none.' },
  request_aborted: { codes: ['validation_failed'], meaning: 'The client stopped sending the body.' },
  content_length_mismatch: { codes: ['validation_failed'], meaning: 'The body is not as long as its Content-Length.' },
  invalid_team: {
    codes: ['validation_failed'],
    meaning: '`X-Team` is not a team name (1-64 letters, digits, `_`, `.`, `:` or `-`).',
  },
  invalid_characters: {
    codes: ['validation_failed'],
    meaning: 'A query or body holds NUL or a lone UTF-16 surrogate, which no database stores as sent.',
  },
  fragment_in_target: { codes: ['validation_failed'], meaning: 'The request target has a `#fragment`.' },
  content_type: { codes: ['unsupported_media_type'], meaning: 'The body is not `application/json`.' },
  charset_unsupported: { codes: ['unsupported_media_type'], meaning: 'The body declares a charset other than UTF-8.' },
  content_encoding_unsupported: {
    codes: ['unsupported_media_type'],
    meaning: 'The body has a Content-Encoding the gateway does not decode.',
  },
  body_not_decodable: {
    codes: ['invalid_content_encoding'],
    meaning: 'The body does not decode with its Content-Encoding.',
  },
  // Rate limits (src/ratelimit/).
  reads_budget_exhausted: { codes: ['rate_limited'], meaning: "The caller's read budget (RATE_LIMIT_READS) is spent." },
  writes_budget_exhausted: {
    codes: ['rate_limited'],
    meaning: "The caller's mutation budget (RATE_LIMIT_WRITES) is spent.",
  },
  upstream_budget_exhausted: {
    codes: ['rate_limited'],
    meaning: "The gateway's own budget towards the Management API (UPSTREAM_RATE_LIMIT) is spent.",
  },
  token_endpoint_budget_exhausted: {
    codes: ['rate_limited'],
    meaning:
      "The gateway's budget of calls to the identity provider's token endpoint (OIDC_TOKEN_CALLS_PER_MINUTE) is spent.",
  },
  unauthenticated_budget_exhausted: {
    codes: ['rate_limited'],
    meaning: "The address's budget of failed authentications is spent (valid tokens still pass).",
  },
  audit_reads_in_flight: {
    codes: ['rate_limited'],
    meaning: 'The caller already has as many audit reads running as allowed.',
  },
  verification_in_progress: {
    codes: ['rate_limited'],
    meaning: 'A verification of the whole chain is already running.',
  },
  rate_limit_store_unavailable: {
    codes: ['rate_limit_unavailable'],
    meaning: 'The rate-limit counters (Redis) cannot be reached; RATE_LIMIT_STORE_FAILURE decides.',
  },
  // The Management API (src/upstream/failures.ts, src/ownership/directory.ts, src/routes/ownership.ts).
  connection_refused: { codes: ['upstream_unavailable'], meaning: 'The Management API refused the connection.' },
  connection_reset: {
    codes: ['upstream_unavailable'],
    meaning: 'The connection to the Management API was closed mid-exchange.',
  },
  dns_failure: { codes: ['upstream_unavailable'], meaning: "The Management API's host name does not resolve." },
  unreachable: { codes: ['upstream_unavailable'], meaning: 'No route to the Management API.' },
  tls_failure: { codes: ['upstream_unavailable'], meaning: 'The TLS handshake with the Management API failed.' },
  network_error: { codes: ['upstream_unavailable'], meaning: 'Any other failure to reach the Management API.' },
  connect_timeout: { codes: ['upstream_timeout'], meaning: 'No connection to the Management API in time.' },
  headers_timeout: { codes: ['upstream_timeout'], meaning: "The Management API's answer did not start in time." },
  body_timeout: { codes: ['upstream_timeout'], meaning: "The Management API's answer stalled mid-body." },
  deadline_exceeded: {
    codes: ['upstream_timeout'],
    meaning: 'The whole exchange took longer than UPSTREAM_TIMEOUT_MS.',
  },
  response_too_large: {
    codes: ['upstream_bad_response'],
    meaning: "The Management API's answer is larger than the gateway passes on.",
  },
  not_json: { codes: ['upstream_bad_response'], meaning: "The Management API's answer is not JSON." },
  cross_origin_redirect: {
    codes: ['upstream_bad_response'],
    meaning: 'The Management API redirected to another origin (the key is never sent there).',
  },
  redirected_mutation: {
    codes: ['upstream_bad_response'],
    meaning: 'The Management API redirected a mutation (never replayed).',
  },
  too_many_redirects: {
    codes: ['upstream_bad_response'],
    meaning: 'The Management API redirected more times than the gateway follows.',
  },
  directory_walk_failed: {
    codes: ['upstream_bad_response'],
    meaning: "The Management API's application list could not be read for a team list.",
  },
  unknown_application: {
    codes: ['not_found'],
    meaning: 'An ownership change names an application the Management API does not know.',
  },
  // The gateway's own stores.
  audit_queue_full: {
    codes: ['audit_unavailable'],
    meaning: 'More audit entries wait for a commit than AUDIT_QUEUE_LIMIT: refused at once.',
  },
  audit_write_timeout: {
    codes: ['audit_unavailable'],
    meaning: 'The audit entry did not commit within AUDIT_WRITE_TIMEOUT_MS.',
  },
  audit_write_failed: { codes: ['audit_unavailable'], meaning: 'The database refused or lost the audit write.' },
  statement_timeout: {
    codes: ['audit_read_unavailable'],
    meaning: 'The audit read ran past AUDIT_READ_TIMEOUT_MS: narrow the filter.',
  },
  database_error: { codes: ['audit_read_unavailable'], meaning: 'The database failed the audit read.' },
  ownership_read_timeout: {
    codes: ['ownership_unavailable'],
    meaning: "The application's owner could not be read in time.",
  },
  ownership_read_failed: { codes: ['ownership_unavailable'], meaning: "The database failed the owner's read." },
  owner_changed: {
    codes: ['ownership_unavailable'],
    meaning: 'The application changed hands between the decision and its request entry: nothing was sent.',
  },
  approvals_store_timeout: {
    codes: ['approvals_unavailable'],
    meaning: 'The approval requests could not be read or changed in time.',
  },
  approvals_store_failed: {
    codes: ['approvals_unavailable'],
    meaning: 'The database failed the approval request read or change.',
  },
} as const satisfies Record<string, { codes: readonly ErrorCode[]; meaning: string }>;

export type ErrorReason = keyof typeof ERROR_REASONS;
/** What `error.details[].reason` may hold. */
export type Reason = DecisionReason | ErrorReason;
