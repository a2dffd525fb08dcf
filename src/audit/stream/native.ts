import type { StoredEntry } from '../trail/entry';
import { entryLeafHash } from '../log/leaf';
import { presentEntry } from '../review/present';

/**
 * An entry as a sink receives it in the native format: exactly as `GET /v1/audit/events/{sequence}` shows it in
 * `entries` (sequence, HMAC chain hash, key id…), plus `leaf_hash`, its leaf in the transparency log (RFC 6962
 * leaf hash, hex), so a SIEM rule can hold the event against an inclusion proof (`GET /v1/audit/log/proof/…`).
 */
export function nativeEvent(entry: StoredEntry): Record<string, unknown> {
  return { ...presentEntry(entry), leaf_hash: entryLeafHash(entry).toString('hex') };
}
