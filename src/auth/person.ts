/**
 * A person is (issuer, subject): two issuers may hand out the same `sub` to different people (issue 23, finding 5).
 * Every comparison of people goes through this module.
 *
 * Two rules, one for each direction a comparison can err in:
 * - `samePerson` (the pair alone) wherever being the same person *grants* something: seeing and cancelling one's own
 *   approval requests, owning a session, one's own rate-limit budget;
 * - `mayBeSamePerson` (the pair, or the same email address in canonical form) wherever being the same person
 *   *restricts*: approving one's own request, and counting two votes from one person. An account's email cannot
 *   be used to act as another account, only to be refused as it.
 */
export interface PersonRef {
  issuer?: string | null;
  sub: string;
  email?: string | null;
}

/** Tokens without `iss` (a local secret's) all come from the one unnamed issuer. */
export const issuerOf = (p: { issuer?: string | null }): string => p.issuer ?? '';

export function samePerson(a: PersonRef, b: PersonRef): boolean {
  return a.sub === b.sub && issuerOf(a) === issuerOf(b);
}

/** Email as compared: Unicode NFC, trimmed, lower case. Undefined for no address. */
export function canonicalEmail(email: string | null | undefined): string | undefined {
  const text = email?.normalize('NFC').trim().toLowerCase();
  return text ? text : undefined;
}

export function mayBeSamePerson(a: PersonRef, b: PersonRef): boolean {
  if (samePerson(a, b)) return true;
  const ea = canonicalEmail(a.email);
  return ea !== undefined && ea === canonicalEmail(b.email);
}

/** A key naming one person, for maps and rate-limit counters (never shown). */
export function personKey(p: PersonRef): string {
  return JSON.stringify([issuerOf(p), p.sub]);
}
