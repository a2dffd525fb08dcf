import { maskSecret } from '../http/redact';

/**
 * API key values in a response body, masked to their last 4 characters for callers without
 * `apikeys.reveal`. Covers a single key object (create) and a page of them (list).
 */
export function maskApiKeys(body: Buffer): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  const mask = (o: unknown) => {
    if (o && typeof o === 'object' && typeof (o as { key?: unknown }).key === 'string') {
      (o as { key: string }).key = maskSecret((o as { key: string }).key);
    }
  };
  mask(parsed);
  const objects = (parsed as { objects?: unknown } | null)?.objects;
  if (Array.isArray(objects)) objects.forEach(mask);
  return Buffer.from(JSON.stringify(parsed));
}
