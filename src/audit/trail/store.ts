import { Prisma, type PrismaClient } from '../../generated/prisma/client';
import type { EntryContent, StoredEntry } from './entry';
import { hashedContent } from './entry';
import { storable } from '../../db/text';
import { AuditDropped, AuditGroupAbandoned, AuditQueueFull, withTimeout } from './write-failures';
import { isStatementRefused, isUniqueViolation } from '../../db/errors';
import { boundEntry } from './size-bound';
import type { AuditKeys } from './keys';
import { findEventOf, findEvents, type AuditEvent, type EventFilter, type Order } from './event-query';
import { COLUMN_LIST, fromRow, JSON_ROW_SELECT, JSON_ROW_TYPE, SELECT_LIST, toJsonRow } from './columns';

/** Any constant shared by every instance: appends to the chain are serialised under this advisory lock. */
const CHAIN_LOCK = 7_319_004_212;
const MAX_BATCH = 256;
/** Entries waiting for a group commit when AUDIT_QUEUE_LIMIT is not given. */
export const DEFAULT_QUEUE_LIMIT = 1024;
/** Attempts at one locked append (a conflict there needs a writer from before the insert lock existed). */
const MAX_ATTEMPTS = 3;
/** Appends sent again chained to the head another writer left, before one is made in a locked transaction. */
const MAX_CHASES = 4;

const COLUMNS = Prisma.raw(COLUMN_LIST);
export const SELECT_COLUMNS = Prisma.raw(SELECT_LIST);

type Tx = Pick<PrismaClient, '$queryRaw' | '$executeRaw'>;

interface Head {
  seq: bigint;
  hash: Buffer;
}

/** What an append statement answers: how many entries it inserted, and the head it found before inserting. */
interface AppendRow {
  inserted: bigint | number;
  seq: bigint | null;
  hash: Uint8Array | null;
  /** The applications whose owner is no longer the one their entry was decided on, with the owner now. */
  moved?: { application_id: string; team: string | null }[] | null;
}

/** The owner an entry was decided on: it commits only if this is still the application's owner (issue 26). */
export interface OwnerExpectation {
  applicationId: string;
  /** null: no team owns it. */
  team: string | null;
}

/**
 * The application's owner changed between the decision and the request entry: the entry was not written (nothing is
 * forwarded); `team` is the owner found under the chain lock.
 */
export class OwnerMoved extends Error {
  constructor(
    readonly applicationId: string,
    readonly team: string | null,
  ) {
    super(`application ${applicationId} changed hands while the request was decided`);
    this.name = 'OwnerMoved';
  }
}

/** The entries application_owner's projection trigger applies (migration *_application_owner_projection). */
const OWNER_MOVING = new Set(['applications.create', 'applications.delete', 'ownership.assign']);
export const movesOwner = (e: EntryContent): boolean =>
  e.kind === 'response' && e.outcome === 'success' && e.applicationId != null && OWNER_MOVING.has(e.operation ?? '');

interface Pending {
  content: EntryContent;
  owner?: OwnerExpectation;
  signal?: AbortSignal;
  resolve(entry: StoredEntry): void;
  reject(err: unknown): void;
}

export interface AppendOptions {
  /**
   * Aborted when the caller stops waiting. Until its group commit sends it, the entry is then dropped (rejected with
   * AuditDropped) and never written: a refused caller's entry must not cost a struggling database a write, and then
   * another for the `not_forwarded` entry that says it was refused.
   */
  signal?: AbortSignal;
  /** Queued even when AUDIT_QUEUE_LIMIT entries wait: for an entry that completes one already committed. */
  beyondLimit?: boolean;
  /**
   * Committed only if this is still the application's owner, read in the same statement under the chain lock (every
   * ownership change commits under it): otherwise rejected with OwnerMoved and never written.
   */
  owner?: OwnerExpectation;
}

export interface AuditStore {
  /**
   * Appends to the chain; resolves once the entry is committed. Concurrent appends are committed together. Refused at
   * once (AuditQueueFull) when `queueLimit` entries already wait.
   */
  append(content: EntryContent, options?: AppendOptions): Promise<StoredEntry>;
  /**
   * Appends several entries queued together, so that (unless a group is already being committed) they go in one
   * group commit: one statement for an approval's vote entry and its execution's request entry.
   */
  appendAll(contents: EntryContent[], options?: AppendOptions): Promise<StoredEntry>[];
  readChain(afterSeq: bigint, limit: number): Promise<StoredEntry[]>;
  latest(): Promise<StoredEntry | undefined>;
  entryAt(seq: bigint): Promise<StoredEntry | undefined>;
  /** Event ids of request entries written in [from, until) that have no response entry. */
  unansweredRequests(from: string, until: string): Promise<string[]>;
  /**
   * Appends a response entry for each of these requests that still has none, checked under the chain
   * lock: instances recovering together never complete the same request twice.
   */
  completeUnanswered(eventIds: string[], complete: (request: StoredEntry) => EntryContent): Promise<StoredEntry[]>;
  /** How far recovery has already looked (bookkeeping beside the trail, not part of it). */
  recoveryWatermark(): Promise<string | undefined>;
  setRecoveryWatermark(until: string): Promise<void>;
  /** Entries mentioning any of these fingerprints (one secret's, under each key of the keyring). */
  withFingerprint(fingerprints: string[], limit: number): Promise<StoredEntry[]>;
  /** Events (an opening entry with its outcome) in sequence order, after `afterSeq` in that order. */
  findEvents(filter: EventFilter, order: Order, limit: number, afterSeq?: bigint): Promise<AuditEvent[]>;
  /** The event any entry belongs to, with all of its raw entries. */
  eventWithEntries(seq: bigint): Promise<{ event: AuditEvent; entries: StoredEntry[] } | undefined>;
  ping(): Promise<void>;
  /**
   * Calls `listener` with every group of entries this instance commits, once committed (the in-memory ownership
   * learns at once what its own commits change: src/ownership/live.ts).
   */
  onCommitted(listener: (entries: readonly StoredEntry[]) => void): void;
  /** Calls `listener` with the application of each entry refused with OwnerMoved (memory held a stale owner). */
  onOwnerMoved(listener: (applicationId: string) => void): void;
}

export interface AuditStoreOptions {
  prisma: PrismaClient;
  keys: AuditKeys;
  /** Bound on one commit: a hung database fails the append instead of holding it. */
  writeTimeoutMs: number;
  /** Most entries waiting for a group commit (AUDIT_QUEUE_LIMIT); past it an append is refused at once. */
  queueLimit?: number;
}

export function createAuditStore({
  prisma,
  keys,
  writeTimeoutMs,
  queueLimit = DEFAULT_QUEUE_LIMIT,
}: AuditStoreOptions): AuditStore {
  let queue: Pending[] = [];
  let flushing = false;
  /**
   * The chain head as this instance last committed or read it: a hint, not a lock. An entry is inserted as
   * seq = head + 1 chained to the head's hash, by a statement that takes the chain lock, reads the head and inserts
   * only if it is still this one; if another instance (or a late commit of this one) appended first, the statement
   * returns the head it found and the group is chained to that one and sent again. So a group commit is one
   * round trip, and one more each time another writer got there first.
   */
  let head: Head | undefined;
  /** Bumped whenever the flush loop stops waiting for a commit: a commit from before may no longer set the hint. */
  let generation = 0;
  const commitListeners: ((entries: readonly StoredEntry[]) => void)[] = [];
  const committed = (entries: readonly StoredEntry[]) => {
    for (const listener of commitListeners) listener(entries);
  };
  const movedListeners: ((applicationId: string) => void)[] = [];
  const refuseMoved = (p: Pending, now: string | null) => {
    for (const listener of movedListeners) listener(p.owner!.applicationId);
    p.reject(new OwnerMoved(p.owner!.applicationId, now));
  };

  /**
   * How many queued entries go in the next group: at most MAX_BATCH, and never an entry whose owner expectation names
   * an application an earlier entry of the group moves (the projection's trigger changes application_owner as that
   * entry is inserted, and the group's owner check reads the table before its rows go in): such an entry starts the
   * next group, whose statement checks it against the owner as moved. Moves of other applications stay together.
   */
  function groupLength(pending: Pending[]): number {
    const limit = Math.min(MAX_BATCH, pending.length);
    const moved = new Set<string>();
    for (let i = 0; i < limit; i++) {
      const p = pending[i]!;
      if (p.owner && moved.has(p.owner.applicationId)) return i;
      if (movesOwner(p.content)) moved.add(p.content.applicationId as string);
    }
    return limit;
  }

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, groupLength(queue));
        queue = queue.slice(batch.length);
        const settled = commitGroup(batch, generation);
        // A hung commit must not hold every later one: past the bound the loop goes on without it (its
        // entries still commit or fail on their own; if they commit late, the primary key keeps the chain whole).
        if (!(await settlesWithin(settled, writeTimeoutMs))) {
          generation++;
          head = undefined;
        }
      }
    } finally {
      flushing = false;
    }
  }

  /**
   * Commits a group: one INSERT chained to the head this instance knows, sent again chained to the head it finds
   * when another writer appended first. Entries whose caller has stopped waiting are dropped up to the moment the
   * INSERT is sent, and nothing is sent once the flush loop has given up on the group (its callers were told it failed).
   */
  async function commitGroup(group: Pending[], gen: number): Promise<void> {
    let sending = stillWanted(group, gen);
    if (sending.length === 0) return;
    try {
      let from = gen === generation && head ? head : await readHead(prisma);
      for (let attempt = 1; ; attempt++) {
        sending = stillWanted(sending, gen);
        if (sending.length === 0) return;
        const stored = chain(
          from,
          sending.map((p) => p.content),
        );
        const found = await insertAfter(from, stored, sending);
        if (found !== 'inserted' && found && 'moved' in found) {
          // Nothing was inserted: the entries decided on an owner that is no longer it are refused, the rest sent again.
          sending = sending.filter((p) => {
            const now = p.owner && found.moved.get(p.owner.applicationId);
            if (now === undefined || p.owner?.team === now) return true;
            refuseMoved(p, now);
            return false;
          });
          from = found.head;
          if (gen === generation) head = found.head;
          continue;
        }
        if (found === 'inserted') {
          if (gen === generation) head = stored.at(-1);
          committed(stored);
          sending.forEach((p, i) => p.resolve(stored[i] as StoredEntry));
          return;
        }
        // Another writer appended first: chain to the head it left, which the statement read under the chain lock.
        from = found;
        if (gen === generation) head = found;
        if (attempt >= MAX_CHASES) break;
      }
      // Still overtaken after MAX_CHASES tries (writers that keep appending between ours): hold the lock from
      // before reading the head, so this append cannot be overtaken.
      sending = stillWanted(sending, gen);
      if (sending.length === 0) return;
      head = undefined;
      const locked = await appendUnderLock(async (tx) => {
        const moved = await movedOwners(tx, sending);
        sending = sending.filter((p) => {
          const now = p.owner && moved.get(p.owner.applicationId);
          if (now === undefined || p.owner?.team === now) return true;
          refuseMoved(p, now);
          return false;
        });
        return sending.map((p) => p.content);
      }, gen);
      sending.forEach((p, i) => p.resolve(locked[i] as StoredEntry));
    } catch (err) {
      // One entry the database refuses must not fail the others committed with it: retry them one by one. Only then:
      // after any other failure (a lost connection, a timeout) the group may have been committed, and appending it
      // again would write every entry twice.
      if (sending.length > 1 && isStatementRefused(err) && !isUniqueViolation(err))
        for (const p of sending) await commitGroup([p], gen);
      else sending.forEach((p) => p.reject(err));
    }
  }

  /** The entries of `group` still worth writing; the others are rejected, never to be written. */
  function stillWanted(group: Pending[], gen: number): Pending[] {
    return group.filter((p) => {
      if (gen !== generation) p.reject(new AuditGroupAbandoned('the audit write was given up before it was sent'));
      else if (p.signal?.aborted)
        p.reject(new AuditDropped('the caller stopped waiting before the audit write was sent'));
      else return true;
      return false;
    });
  }

  /**
   * One statement, one round trip: takes the chain lock, reads the head (audit_chain_head(), migration
   * *_audit_chain_head) and inserts the entries only if that head is `from`, the entry they are chained to.
   * 'inserted', or the head found instead (undefined: the trail is empty).
   */
  async function insertAfter(
    from: Head | undefined,
    entries: StoredEntry[],
    pending: Pending[],
  ): Promise<'inserted' | Head | undefined | { moved: Map<string, string | null>; head: Head | undefined }> {
    const matches = from
      ? Prisma.sql`EXISTS (SELECT 1 FROM head WHERE head.seq = ${from.seq}::bigint AND head.hash = ${from.hash}::bytea)`
      : Prisma.sql`NOT EXISTS (SELECT 1 FROM head)`;
    // The owners the entries were decided on, read under the chain lock in this statement (issue 26): a request entry
    // and its owner's read in one round trip. application_owner_moved() answers only those that are no longer it.
    const expected = expectations(pending);
    const moved = expected
      ? Prisma.sql`, moved AS MATERIALIZED (SELECT application_id, team FROM application_owner_moved(${expected}::jsonb))`
      : Prisma.empty;
    const unmoved = expected ? Prisma.sql`AND NOT EXISTS (SELECT 1 FROM moved)` : Prisma.empty;
    const movedColumn = expected
      ? Prisma.sql`, (SELECT json_agg(json_build_object('application_id', application_id, 'team', team)) FROM moved) AS moved`
      : Prisma.empty;
    let row: AppendRow | undefined;
    try {
      [row] = await prisma.$queryRaw<AppendRow[]>`
      WITH head AS MATERIALIZED (SELECT seq, hash FROM audit_chain_head())${moved},
        ins AS (INSERT INTO audit_entry (${COLUMNS}) ${selectRows(entries)} WHERE ${matches} ${unmoved} RETURNING 1)
      SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT seq FROM head) AS seq, (SELECT hash FROM head) AS hash${movedColumn}`;
    } catch (err) {
      // Only a writer that inserts without the chain lock can take the seq between the head read and the insert;
      // the primary key refuses the duplicate, and the head is read again.
      if (isUniqueViolation(err)) return readHead(prisma);
      throw err;
    }
    if (Number(row?.inserted) === entries.length) return 'inserted';
    const found =
      row?.seq == null || row.hash == null ? undefined : { seq: BigInt(row.seq), hash: Buffer.from(row.hash) };
    if (row?.moved?.length) return { moved: new Map(row.moved.map((m) => [m.application_id, m.team])), head: found };
    return found;
  }

  function chain(from: Head | undefined, contents: EntryContent[]): StoredEntry[] {
    let seq = from?.seq ?? 0n;
    let previous: Buffer | null = from?.hash ?? null;
    return contents.map((content) => {
      seq += 1n;
      const hash = keys.chainHash(previous, hashedContent(seq, keys.keyId, content));
      previous = hash;
      return { ...content, seq, keyId: keys.keyId, hash };
    });
  }

  /**
   * For appends that depend on what the trail holds (recovery completing unanswered requests): under the
   * advisory lock, so two instances recovering together see each other's entries, and retried like any
   * append if a writer that predates the insert lock took the seq first. `produce` runs under the lock, in
   * the transaction.
   */
  async function appendUnderLock(produce: (tx: Tx) => Promise<EntryContent[]>, gen?: number): Promise<StoredEntry[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const stored = await prisma.$transaction(
          async (tx) => {
            await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHAIN_LOCK}::bigint)`;
            const contents = await produce(tx);
            if (contents.length === 0) return [];
            const entries = chain(await readHead(tx), contents);
            await insert(tx, entries);
            return entries;
          },
          // Under READ COMMITTED (set per connection, src/db/client.ts) each statement sees what was committed
          // before it, so the head read after the lock is current.
          { maxWait: writeTimeoutMs, timeout: writeTimeoutMs },
        );
        // The flush loop's own appends leave the head they wrote for the next group; recovery's leave none.
        if (stored.length > 0) head = gen !== undefined && gen === generation ? stored.at(-1) : undefined;
        if (stored.length > 0) committed(stored);
        return stored;
      } catch (err) {
        if (isUniqueViolation(err) && attempt < MAX_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /** Queues an entry for the next group commit (the caller starts the flush). */
  function enqueue(
    content: EntryContent,
    { signal, beyondLimit = false, owner }: AppendOptions = {},
  ): Promise<StoredEntry> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted)
        return reject(new AuditDropped('the caller stopped waiting before the audit write was queued'));
      if (!beyondLimit && queue.length >= queueLimit)
        return reject(new AuditQueueFull(`${queue.length} audit entries are already waiting`));
      const pending: Pending = { content: boundEntry(storable(content)), owner, signal, resolve, reject };
      queue.push(pending);
      // Leaves the queue as soon as its caller gives up, making room at once.
      signal?.addEventListener(
        'abort',
        () => {
          const at = queue.indexOf(pending);
          if (at < 0) return;
          queue.splice(at, 1);
          reject(new AuditDropped('the caller stopped waiting before the audit write was sent'));
        },
        { once: true },
      );
    });
  }

  const select = async (where: Prisma.Sql, tail: Prisma.Sql = Prisma.empty, client: Tx = prisma) =>
    (await client.$queryRaw<Record<string, unknown>[]>`SELECT ${SELECT_COLUMNS} FROM audit_entry ${where} ${tail}`).map(
      fromRow,
    );

  return {
    append(content, options) {
      const appended = enqueue(content, options);
      void flush();
      return appended;
    },
    appendAll(contents, options) {
      const appended = contents.map((content) => enqueue(content, options));
      void flush();
      return appended;
    },
    readChain: (afterSeq, limit) =>
      select(Prisma.sql`WHERE seq > ${afterSeq}`, Prisma.sql`ORDER BY seq LIMIT ${limit}`),
    latest: async () => (await select(Prisma.empty, Prisma.sql`ORDER BY seq DESC LIMIT 1`))[0],
    entryAt: async (seq) => (await select(Prisma.sql`WHERE seq = ${seq}`))[0],
    async unansweredRequests(from, until) {
      // OFFSET 0 keeps the kind test out of the inner index scan: on a trail whose statistics lag its growth the
      // planner otherwise ANDs the event_id index with every response entry per candidate (30 s on 70,000
      // entries, every pass and at start-up; 0.06 s like this).
      const rows = await prisma.$queryRaw<{ event_id: string }[]>`
        SELECT r.event_id::text AS event_id FROM audit_entry r
        WHERE r.kind = 'request' AND r.at >= ${from}::timestamptz AND r.at < ${until}::timestamptz
          AND NOT EXISTS (SELECT 1 FROM (SELECT s.kind FROM audit_entry s WHERE s.event_id = r.event_id OFFSET 0) s WHERE s.kind = 'response')`;
      return rows.map((r) => r.event_id);
    },
    completeUnanswered: (eventIds, complete) =>
      eventIds.length === 0
        ? Promise.resolve([])
        : appendUnderLock(async (tx) =>
            (
              await select(
                Prisma.sql`r WHERE r.kind = 'request' AND r.event_id IN (${Prisma.join(eventIds.map((id) => Prisma.sql`${id}::uuid`))})
                  AND NOT EXISTS (SELECT 1 FROM audit_entry s WHERE s.event_id = r.event_id AND s.kind = 'response')`,
                Prisma.sql`ORDER BY r.seq`,
                tx,
              )
            ).map((request) => boundEntry(complete(request))),
          ),
    async recoveryWatermark() {
      const [row] = await prisma.$queryRaw<{ checked_until: string }[]>`
        SELECT to_char(checked_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS checked_until FROM audit_recovery_state WHERE id = 1`;
      return row?.checked_until;
    },
    async setRecoveryWatermark(until) {
      await prisma.$executeRaw`
        INSERT INTO audit_recovery_state (id, checked_until) VALUES (1, ${until}::timestamptz)
        ON CONFLICT (id) DO UPDATE SET checked_until = GREATEST(audit_recovery_state.checked_until, EXCLUDED.checked_until)`;
    },
    withFingerprint: (fingerprints, limit) =>
      select(
        Prisma.sql`WHERE fingerprints && ARRAY[${Prisma.join(fingerprints)}]::text[]`,
        Prisma.sql`ORDER BY seq LIMIT ${limit}`,
      ),
    findEvents: (filter, order, limit, afterSeq) => findEvents(prisma, filter, order, limit, afterSeq),
    async eventWithEntries(seq) {
      const event = await findEventOf(prisma, seq);
      if (!event) return undefined;
      return {
        event,
        entries: await select(Prisma.sql`WHERE event_id = ${event.eventId}::uuid`, Prisma.sql`ORDER BY seq`),
      };
    },
    ping: async () => void (await prisma.$queryRaw`SELECT 1`),
    onCommitted: (listener) => void commitListeners.push(listener),
    onOwnerMoved: (listener) => void movedListeners.push(listener),
  };
}

/** The owners a group's entries were decided on, as one JSON parameter; undefined when none was. */
function expectations(pending: Pending[]): string | undefined {
  const owners = pending.flatMap((p) =>
    p.owner ? [{ application_id: p.owner.applicationId, team: p.owner.team }] : [],
  );
  return owners.length > 0 ? JSON.stringify(owners) : undefined;
}

/** The same check in the locked transaction (after the chain lock): the owners that are no longer the expected ones. */
async function movedOwners(client: Tx, pending: Pending[]): Promise<Map<string, string | null>> {
  const expected = expectations(pending);
  if (!expected) return new Map();
  const rows = await client.$queryRaw<{ application_id: string; team: string | null }[]>`
    SELECT application_id, team FROM application_owner_moved(${expected}::jsonb)`;
  return new Map(rows.map((r) => [r.application_id, r.team]));
}

async function insert(client: Tx, entries: StoredEntry[]): Promise<void> {
  await client.$executeRaw`INSERT INTO audit_entry (${COLUMNS}) ${selectRows(entries)}`;
}

async function readHead(client: Tx): Promise<Head | undefined> {
  const [row] = await client.$queryRaw<
    { seq: bigint; hash: Uint8Array }[]
  >`SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1`;
  return row ? { seq: BigInt(row.seq), hash: Buffer.from(row.hash) } : undefined;
}

/** Whether `work` (which never rejects) settles within `ms`. */
const settlesWithin = (work: Promise<void>, ms: number): Promise<boolean> =>
  withTimeout(work, ms).then(
    () => true,
    () => false,
  );

/**
 * The entries as rows of one JSON parameter, which Postgres types with jsonb_to_recordset: one parameter per
 * group commit instead of thirty per entry, each of which Prisma and pg serialised on its own.
 */
function selectRows(entries: StoredEntry[]): Prisma.Sql {
  const rows = entries.map(toJsonRow);
  return Prisma.sql`SELECT ${Prisma.raw(JSON_ROW_SELECT)} FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(${Prisma.raw(JSON_ROW_TYPE)})`;
}
