import type { Logger } from 'pino';
import type { StoredEntry } from '../audit/trail/entry';
import type { ListenHandlers, Listening } from '../db/listen';
import type { Ownership, OwnershipStore, OwnerRecord, OwnerRecordReader } from './store';

/** The channel migration *_application_owner_notify announces every change of the projection on. */
export const OWNERSHIP_CHANNEL = 'application_owner';

/**
 * The operations whose successful response entry changes the projection: the WHEN of the trigger of migration
 * *_application_owner_projection. An entry of these committed here makes its application's owner unsure until read.
 */
const CHANGES_OWNERSHIP = new Set(['applications.create', 'applications.delete', 'ownership.assign']);

export interface LiveOwnershipOptions {
  /** Fresh reads: every answer while the listener is not connected (fail closed: never an answer from memory). */
  store: OwnershipStore;
  records: OwnerRecordReader;
  listen(handlers: ListenHandlers): Promise<Listening>;
  logger: Logger;
  /** How often the listening connection is asked to answer, and how long it has to. */
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  /** Waits before connecting again after a loss: the first, doubled each time up to the last. */
  retryMs?: { first: number; max: number };
  /** Told when reads start or stop being answered from memory (the gateway_ownership_live metric). */
  onLive?: (live: boolean) => void;
}

export interface LiveOwnership extends OwnershipStore {
  /** Whether reads are answered from memory now (the listener connected and the projection read since). */
  live(): boolean;
  /** Entries this instance committed (AuditStore.onCommitted): an owner they change is read afresh once. */
  committed(entries: readonly StoredEntry[]): void;
  /** An owner memory held was found changed (a request entry's check): read afresh by the next read that needs it. */
  forget(applicationId: string): void;
  /** Resolves once reads are answered from memory (or rejects after `timeoutMs`): for tests and start-up. */
  whenLive(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** What a deletion notification leaves: no owner, newer than any read of the row from before the delete. */
const DELETED: OwnerRecordLike = { team: undefined, assignedAt: new Date(0), assignedSeq: 0n, version: 2n ** 63n - 1n };
type OwnerRecordLike = Omit<Row, 'tick'>;

interface Row {
  team: string | undefined;
  assignedAt: Date;
  assignedSeq: bigint;
  version: bigint;
  /** When it was set here (a counter): a fresh read replaces what was set before it began. */
  tick?: number;
}

/**
 * The ownership projection held in memory (issue 26): read whole once the listener is connected, then kept current
 * by the NOTIFY of every change (migration *_application_owner_notify), so a team-scoped read costs no statement.
 * Whenever the listener is not connected (not yet, lost, reconnecting) every read goes to the database, as before:
 * never an answer from a copy that may have missed a change. A change another instance commits is seen here when
 * its notification arrives (the commit's own round trip, about); a change this instance commits is read afresh by
 * the next read that needs it, so a caller always reads its own writes. A mutation's request entry checks the owner
 * it was decided on under the chain lock (src/audit/trail/store.ts), so no mutation is forwarded on a stale owner.
 */
export function createLiveOwnership(options: LiveOwnershipOptions): LiveOwnership {
  const { store, records, logger } = options;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 3_000;
  const retry = options.retryMs ?? { first: 500, max: 15_000 };
  const rows = new Map<string, Row>();
  const byTeam = new Map<string, Set<string>>();
  /** Applications whose owner this instance changed and has not read since (the value: when, to tell reads apart). */
  const unsure = new Map<string, number>();
  let marks = 0;
  let ticks = 0;
  let state: 'down' | 'loading' | 'live' = 'down';
  let epoch = 0;
  let listening: Listening | undefined;
  let buffered: string[] = [];
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let waitMs = retry.first;
  let waiters: (() => void)[] = [];

  function set(applicationId: string, row: Row | undefined): void {
    const before = rows.get(applicationId);
    if (before?.team) byTeam.get(before.team)?.delete(applicationId);
    if (!row) return void rows.delete(applicationId);
    rows.set(applicationId, { ...row, tick: ++ticks });
    if (row.team) {
      let owned = byTeam.get(row.team);
      if (!owned) byTeam.set(row.team, (owned = new Set()));
      owned.add(applicationId);
    }
  }

  /** Keeps the newer of what is held and what arrived: notifications and fresh reads may cross. */
  function apply(record: OwnerRecord): void {
    const held = rows.get(record.applicationId);
    if (held && held.version >= record.version) return;
    set(record.applicationId, record);
  }

  function onNotify(payload: string): void {
    if (state === 'loading') return void buffered.push(payload);
    if (state !== 'live') return;
    const change = parseChange(payload);
    if (change === 'reset' || change === undefined) {
      // Truncated, or a payload this build cannot read: nothing held can be trusted.
      if (change === undefined)
        logger.error({ payload: payload.slice(0, 200) }, 'ownership notification not understood');
      return lose(new Error('the ownership projection was reset'));
    }
    // A deleted row is kept as a tombstone, not forgotten: a fresh read begun before the delete and answered after it
    // must not bring the row back (a read replaces only what was set before it began, or what is older).
    if ('deleted' in change) return set(change.applicationId, DELETED);
    if (rows.get(change.applicationId)?.version === DELETED.version) return set(change.applicationId, change);
    apply(change);
  }

  async function connect(): Promise<void> {
    const mine = ++epoch;
    state = 'loading';
    buffered = [];
    try {
      const opened = await options.listen({
        notify: (payload) => mine === epoch && onNotify(payload),
        lost: (err) => mine === epoch && lose(err),
      });
      if (mine !== epoch || closed) return void opened.close().catch(() => undefined);
      listening = opened;
      // Read after LISTEN: a change committed before it is in what is read, one committed after it is notified.
      const all = await records();
      if (mine !== epoch) return;
      rows.clear();
      byTeam.clear();
      for (const record of all) set(record.applicationId, record);
      state = 'live';
      for (const payload of buffered.splice(0)) onNotify(payload);
      if (state !== 'live') return;
      waitMs = retry.first;
      logger.info({ applications: rows.size }, 'ownership held in memory: the listener is connected');
      options.onLive?.(true);
      for (const wake of waiters.splice(0)) wake();
    } catch (err) {
      if (mine === epoch) lose(err);
    }
  }

  function lose(err: unknown): void {
    if (closed) return;
    const wasLive = state === 'live';
    epoch++;
    state = 'down';
    rows.clear();
    byTeam.clear();
    unsure.clear();
    void listening?.close().catch(() => undefined);
    listening = undefined;
    if (wasLive) options.onLive?.(false);
    logger.warn(
      { err: err instanceof Error ? err.message : String(err), retry_in_ms: waitMs },
      'ownership listener not connected: every ownership read goes to the database until it is',
    );
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void connect(), waitMs);
    retryTimer.unref();
    waitMs = Math.min(retry.max, waitMs * 2);
  }

  const heartbeat = setInterval(() => {
    if (state === 'live') listening?.heartbeat(heartbeatTimeoutMs).catch(() => undefined);
  }, heartbeatMs);
  heartbeat.unref();

  /** Reads these applications' rows afresh and keeps them; true when memory can answer afterwards. */
  async function settle(applicationIds: readonly string[]): Promise<boolean> {
    if (state !== 'live') return false;
    if (applicationIds.length === 0) return true;
    const mine = epoch;
    const began = ticks;
    const asked = applicationIds.map((id) => [id, unsure.get(id)] as const);
    const fresh = await records(applicationIds);
    if (mine !== epoch || state !== 'live') return false;
    const found = new Set(fresh.map((r) => r.applicationId));
    // What the read found replaces what was held before it began; a notification that arrived meanwhile is newer.
    for (const record of fresh) {
      const held = rows.get(record.applicationId);
      if (!held || (held.tick ?? 0) <= began) set(record.applicationId, record);
      else apply(record);
    }
    for (const [id, mark] of asked) {
      // Absent from the table (never owned, or deleted by hand): nothing is held unless notified since.
      if (!found.has(id) && (rows.get(id)?.tick ?? 0) <= began) set(id, undefined);
      if (unsure.get(id) === mark) unsure.delete(id);
    }
    return state === 'live';
  }

  const ownership = (applicationId: string): Ownership | undefined => {
    const row = rows.get(applicationId);
    return row?.team === undefined
      ? undefined
      : { applicationId, team: row.team, assignedAt: row.assignedAt, assignedSeq: row.assignedSeq };
  };
  const ownedBy = (teams: readonly string[]) => new Set(teams.flatMap((team) => [...(byTeam.get(team) ?? [])]));

  void connect();

  return {
    live: () => state === 'live',
    async ownerOf(applicationId) {
      if (!(await settle(unsure.has(applicationId) ? [applicationId] : []))) return store.ownerOf(applicationId);
      return ownership(applicationId);
    },
    async ownersOf(applicationIds) {
      if (!(await settle(applicationIds.filter((id) => unsure.has(id))))) return store.ownersOf(applicationIds);
      const owners = new Map<string, string>();
      for (const id of applicationIds) {
        const team = rows.get(id)?.team;
        if (team !== undefined) owners.set(id, team);
      }
      return owners;
    },
    async ownedBy(teams) {
      if (!(await settle([...unsure.keys()]))) return store.ownedBy(teams);
      return ownedBy(teams);
    },
    async allOwned() {
      if (!(await settle([...unsure.keys()]))) return store.allOwned();
      const owners = new Map<string, string>();
      for (const [id, row] of rows) if (row.team !== undefined) owners.set(id, row.team);
      return owners;
    },
    async teamsWithApplications(teams) {
      if (!(await settle([...unsure.keys()]))) return store.teamsWithApplications(teams);
      return new Set(teams.filter((team) => (byTeam.get(team)?.size ?? 0) > 0));
    },
    committed(entries) {
      if (state === 'down') return;
      for (const entry of entries)
        if (
          entry.kind === 'response' &&
          entry.outcome === 'success' &&
          entry.applicationId &&
          entry.operation &&
          CHANGES_OWNERSHIP.has(entry.operation)
        )
          unsure.set(entry.applicationId, ++marks);
    },
    forget(applicationId) {
      if (state !== 'down') unsure.set(applicationId, ++marks);
    },
    whenLive(timeoutMs) {
      if (state === 'live') return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`ownership not live after ${timeoutMs} ms`)), timeoutMs);
        waiters.push(() => (clearTimeout(timer), resolve()));
      });
    },
    async close() {
      closed = true;
      epoch++;
      state = 'down';
      clearInterval(heartbeat);
      clearTimeout(retryTimer);
      waiters = [];
      await listening?.close();
      listening = undefined;
    },
  };
}

type Change = OwnerRecord | { applicationId: string; deleted: true } | 'reset';

/** A notification's payload (migration *_application_owner_notify), or undefined when it cannot be read. */
function parseChange(payload: string): Change | undefined {
  try {
    const p = JSON.parse(payload) as Record<string, unknown>;
    if (p.reset === true) return 'reset';
    if (typeof p.application_id !== 'string') return undefined;
    if (p.deleted === true) return { applicationId: p.application_id, deleted: true };
    if (typeof p.team !== 'string' || typeof p.assigned_at !== 'string' || typeof p.assigned_seq !== 'string')
      return undefined;
    const retiredSeq = typeof p.retired_seq === 'string' ? BigInt(p.retired_seq) : undefined;
    return {
      applicationId: p.application_id,
      team: retiredSeq === undefined ? p.team : undefined,
      assignedAt: new Date(p.assigned_at),
      assignedSeq: BigInt(p.assigned_seq),
      version: retiredSeq ?? BigInt(p.assigned_seq),
    };
  } catch {
    return undefined;
  }
}
