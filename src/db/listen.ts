/** What a listener is told: each notification's payload, and that its connection is gone (no more will come). */
export interface ListenHandlers {
  notify(payload: string): void;
  lost(err?: unknown): void;
}

/** A LISTEN in effect on a connection of its own. */
export interface Listening {
  /**
   * One round trip on the listening connection, bounded by `timeoutMs`: a connection that died without a word (a
   * network cut) answers nothing, and one whose session no longer listens (a pooler between) answers false; either
   * way the caller stops trusting it. Rejects when it does not answer in time, or answers that it is not listening.
   */
  heartbeat(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Channel names are identifiers written into LISTEN: only these. */
export const CHANNEL_PATTERN = /^[a-z_]{1,63}$/;

/**
 * The statement a heartbeat sends. It says what it is, so a count of the statements a request costs (Postgres's
 * statement log, test/helpers/statements.ts) can leave out the listener's own, which no request sends.
 */
export const HEARTBEAT_SQL =
  'SELECT EXISTS (SELECT 1 FROM pg_listening_channels() AS c WHERE c = $1::text) AS listening /* ownership listener heartbeat */';

/** LISTEN on a dedicated connection to the Postgres server at `url` (not one of the pool's: it stays open). */
export async function listenPostgres(
  url: string,
  channel: string,
  handlers: ListenHandlers,
  connectTimeoutMs: number,
): Promise<Listening> {
  if (!CHANNEL_PATTERN.test(channel)) throw new Error(`not a channel name: ${channel}`);
  const pg = await import('pg');
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    application_name: 'kloudless-gateway-listen',
  });
  let closing = false;
  let said = false;
  const lost = (err?: unknown) => {
    if (closing || said) return;
    said = true;
    handlers.lost(err);
  };
  client.on('notification', (message) => {
    if (message.channel === channel && message.payload !== undefined) handlers.notify(message.payload);
  });
  client.on('error', lost);
  client.on('end', () => lost(new Error('the listening connection ended')));
  try {
    await client.connect();
    await client.query(`LISTEN ${channel}`);
  } catch (err) {
    closing = true;
    await client.end().catch(() => undefined);
    throw err;
  }
  return {
    async heartbeat(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the listening connection did not answer in ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        // Answering is not enough: the session answering must be the one listening. Through a transaction pooler the
        // heartbeat lands on another server session, which listens to nothing, and no notification would ever come.
        const result = await Promise.race([client.query<{ listening: boolean }>(HEARTBEAT_SQL, [channel]), late]);
        if (result.rows[0]?.listening !== true)
          throw new Error(`the session answering is not listening on ${channel} (a transaction pooler?)`);
      } catch (err) {
        lost(err);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      closing = true;
      // A connection that stopped answering (the reason it is closed, often) would hold end() until TCP gives up:
      // after a second its socket is destroyed instead.
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        client.end().then(
          () => true,
          () => true,
        ),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 1_000))),
      ]);
      clearTimeout(timer);
      if (!ended)
        (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    },
  };
}
