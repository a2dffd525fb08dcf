/** Small waiting and concurrency helpers for tests. */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Runs `total` calls with at most `concurrency` at once; results in call order. */
export async function inFlight<T>(total: number, concurrency: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        results[i] = await call(i);
      }
    }),
  );
  return results;
}

/**
 * An answer as a test failure should show it: the status, with the error code and first reason of a refusal (the
 * gateway's error envelope), so a failed run says which limit or deadline was hit.
 */
export function outcomeOf(status: number, body: unknown): string {
  const error = (body as { error?: { code?: string; details?: { reason?: string }[] } } | undefined)?.error;
  return error ? `${status} ${error.code ?? '?'}/${error.details?.[0]?.reason ?? '-'}` : String(status);
}
