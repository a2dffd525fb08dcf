import { Prisma, type PrismaClient } from '../../generated/prisma/client';
import { nodeKey, type NodeId } from './merkle';

/** The transparency log's tables (prisma/schema.prisma: AuditTreeNode, AuditLogState, AuditCheckpoint, AuditCosignature). */

type Client = Pick<PrismaClient, '$queryRaw' | '$executeRaw'>;

/** Integration of new entries into the tree is done by one instance at a time, under this advisory lock. */
const TREE_LOCK = 7_319_004_215;

export interface LogState {
  treeSize: number;
  verifiedSize: number;
  verifiedRoot: Buffer | null;
  verifiedHash: Buffer | null;
}

export interface StoredCheckpoint {
  treeSize: number;
  root: Buffer;
  note: string;
  signedAt: string;
  cosignatures: { witness: string; line: string }[];
}

/** A key of the log as a verifier knows it. */
export interface SigningKeyIdentity {
  /** The C2SP verifier key, `origin+keyid+base64(type ‖ key)`. */
  verifierKey: string;
  origin: string;
  publicKeyPem: string;
}

/** A signing key and the checkpoints it signed: the first and last, by tree size and time. */
export interface SigningKeyPeriod extends SigningKeyIdentity {
  first: { treeSize: number; signedAt: string };
  last: { treeSize: number; signedAt: string };
}

/** What one proof needs, read in one round trip (TreeStore.proofRead). */
export interface ProofRead {
  /** The log state's tree size: a proof for a larger tree is out of range. */
  treeSize: number;
  /** The hashes of the nodes asked for, in their order; undefined for a node not stored. */
  hashes: (Buffer | undefined)[];
  /** The checkpoint of the size asked for, if one was signed. */
  checkpoint: StoredCheckpoint | undefined;
}

export interface TreeStore {
  state(client?: Client): Promise<LogState>;
  /**
   * The proof path's one round trip: the tree size, the hashes of these nodes and the checkpoint of `checkpointSize`
   * (a proof answer carries it), in one statement by primary keys.
   */
  proofRead(ids: NodeId[], checkpointSize: number): Promise<ProofRead>;
  /** The hashes of these nodes; throws if one is missing (a tree damaged underneath the gateway). */
  nodes(ids: NodeId[], client?: Client): Promise<Map<string, Buffer>>;
  /** Leaf hashes of leaves [from, to). */
  leaves(from: number, to: number): Promise<Buffer[]>;
  /**
   * Runs `work` in a transaction holding the tree lock, or returns undefined at once if another instance
   * holds it (it is integrating the same entries).
   */
  exclusively<T>(work: (tx: Client) => Promise<T>, timeoutMs: number): Promise<T | undefined>;
  appendNodes(tx: Client, nodes: { level: number; index: number; hash: Buffer }[], newSize: number): Promise<void>;
  setVerified(size: number, root: Buffer, hash: Buffer | null): Promise<void>;
  /** Stores a checkpoint the log signed with `key` and extends that key's period to it. */
  saveCheckpoint(treeSize: number, root: Buffer, note: string, key: SigningKeyIdentity): Promise<void>;
  /** Every key that has signed a checkpoint, with its first and last checkpoint; the newest key first. */
  signingKeys(): Promise<SigningKeyPeriod[]>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  checkpointAt(treeSize: number): Promise<StoredCheckpoint | undefined>;
  saveCosignature(treeSize: number, witness: string, line: string): Promise<void>;
  /** The largest tree size a witness (by URL) has cosigned, as far as this log knows. */
  lastCosigned(witness: string): Promise<number>;
}

export class TreeDamaged extends Error {}

export function createTreeStore(prisma: PrismaClient): TreeStore {
  // One round trip: proof answers carry the checkpoint of their tree size, so this is on the proof path.
  const checkpointWhere = async (where: Prisma.Sql): Promise<StoredCheckpoint | undefined> => {
    const [row] = await prisma.$queryRaw<
      {
        tree_size: bigint;
        root: Uint8Array;
        note: string;
        signed_at: string;
        cosignatures: { witness: string; line: string }[];
      }[]
    >`
      SELECT c.tree_size, c.root, c.note, to_char(c.signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS signed_at,
             COALESCE((SELECT json_agg(json_build_object('witness', s.witness, 'line', s.line) ORDER BY s.witness)
                       FROM audit_cosignature s WHERE s.tree_size = c.tree_size), '[]'::json) AS cosignatures
      FROM audit_checkpoint c ${where} ORDER BY c.tree_size DESC LIMIT 1`;
    if (!row) return undefined;
    return {
      treeSize: Number(row.tree_size),
      root: Buffer.from(row.root),
      note: row.note,
      signedAt: row.signed_at,
      cosignatures: row.cosignatures,
    };
  };

  return {
    async proofRead(ids, checkpointSize) {
      // Node ids as text lists (portable to the embedded database's driver), looked up in their order.
      const levels = ids.map((id) => id.level).join(',');
      const indexes = ids.map((id) => id.index).join(',');
      type Checkpoint = Omit<StoredCheckpoint, 'root'> & { root: string };
      type Row = { tree_size: bigint | null; hashes: (string | null)[]; checkpoint: Checkpoint | null };
      const [row] = await prisma.$queryRaw<Row[]>`
        SELECT (SELECT tree_size FROM audit_log_state WHERE id = 1) AS tree_size,
               ARRAY(SELECT encode(n.hash, 'base64')
                     FROM unnest(string_to_array(${levels}, ',')::smallint[],
                                 string_to_array(${indexes}, ',')::bigint[])
                          WITH ORDINALITY AS k(level, idx, ord)
                     LEFT JOIN audit_tree_node n ON n.level = k.level AND n.idx = k.idx
                     ORDER BY k.ord) AS hashes,
               (SELECT json_build_object(
                         'treeSize', c.tree_size, 'root', encode(c.root, 'base64'), 'note', c.note,
                         'signedAt', to_char(c.signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                         'cosignatures', COALESCE(
                           (SELECT json_agg(json_build_object('witness', s.witness, 'line', s.line) ORDER BY s.witness)
                            FROM audit_cosignature s WHERE s.tree_size = c.tree_size),
                           '[]'::json))
                FROM audit_checkpoint c WHERE c.tree_size = ${checkpointSize}::bigint) AS checkpoint`;
      const c = row?.checkpoint;
      return {
        treeSize: Number(row?.tree_size ?? 0),
        hashes: (row?.hashes ?? []).map((h) => (h === null ? undefined : Buffer.from(h, 'base64'))),
        checkpoint: c ? { ...c, treeSize: Number(c.treeSize), root: Buffer.from(c.root, 'base64') } : undefined,
      };
    },
    async state(client = prisma) {
      const [row] = await client.$queryRaw<
        {
          tree_size: bigint;
          verified_size: bigint;
          verified_root: Uint8Array | null;
          verified_hash: Uint8Array | null;
        }[]
      >`
        SELECT tree_size, verified_size, verified_root, verified_hash FROM audit_log_state WHERE id = 1`;
      if (!row) return { treeSize: 0, verifiedSize: 0, verifiedRoot: null, verifiedHash: null };
      return {
        treeSize: Number(row.tree_size),
        verifiedSize: Number(row.verified_size),
        verifiedRoot: row.verified_root ? Buffer.from(row.verified_root) : null,
        verifiedHash: row.verified_hash ? Buffer.from(row.verified_hash) : null,
      };
    },
    async nodes(ids, client = prisma) {
      const found = new Map<string, Buffer>();
      if (ids.length === 0) return found;
      const rows = await client.$queryRaw<{ level: number; idx: bigint; hash: Uint8Array }[]>`
        SELECT level, idx, hash FROM audit_tree_node
        WHERE (level, idx) IN (${Prisma.join(ids.map((id) => Prisma.sql`(${id.level}::smallint, ${id.index}::bigint)`))})`;
      for (const r of rows) found.set(nodeKey({ level: Number(r.level), index: Number(r.idx) }), Buffer.from(r.hash));
      const missing = ids.find((id) => !found.has(nodeKey(id)));
      if (missing) throw new TreeDamaged(`tree node ${nodeKey(missing)} is missing`);
      return found;
    },
    async leaves(from, to) {
      const rows = await prisma.$queryRaw<{ idx: bigint; hash: Uint8Array }[]>`
        SELECT idx, hash FROM audit_tree_node WHERE level = 0 AND idx >= ${from}::bigint AND idx < ${to}::bigint ORDER BY idx`;
      if (rows.length !== to - from || rows.some((r, i) => Number(r.idx) !== from + i))
        throw new TreeDamaged(`leaves ${from} to ${to} are not all stored`);
      return rows.map((r) => Buffer.from(r.hash));
    },
    async exclusively(work, timeoutMs) {
      return prisma.$transaction(
        async (tx) => {
          const [{ locked }] = (await tx.$queryRaw<
            { locked: boolean }[]
          >`SELECT pg_try_advisory_xact_lock(${TREE_LOCK}::bigint) AS locked`) as [{ locked: boolean }];
          return locked ? work(tx) : undefined;
        },
        { maxWait: timeoutMs, timeout: timeoutMs },
      );
    },
    async appendNodes(tx, nodes, newSize) {
      if (nodes.length > 0) {
        const rows = JSON.stringify(
          nodes.map((n) => ({ level: n.level, idx: String(n.index), hash: n.hash.toString('hex') })),
        );
        await tx.$executeRaw`
          INSERT INTO audit_tree_node (level, idx, hash)
          SELECT r.level, r.idx, decode(r.hash, 'hex') FROM jsonb_to_recordset(${rows}::jsonb) AS r(level smallint, idx bigint, hash text)`;
      }
      await tx.$executeRaw`
        INSERT INTO audit_log_state (id, tree_size) VALUES (1, ${newSize}::bigint)
        ON CONFLICT (id) DO UPDATE SET tree_size = EXCLUDED.tree_size`;
    },
    async setVerified(size, root, hash) {
      await prisma.$executeRaw`
        UPDATE audit_log_state SET verified_size = ${size}::bigint, verified_root = ${root}, verified_hash = ${hash}
        WHERE id = 1 AND verified_size <= ${size}::bigint`;
    },
    // The checkpoint and its key's period in one statement: a key's record covers every checkpoint it signed.
    async saveCheckpoint(treeSize, root, note, key) {
      await prisma.$executeRaw`
        WITH saved AS (
          INSERT INTO audit_checkpoint (tree_size, root, note, signed_at) VALUES (${treeSize}::bigint, ${root}, ${note}, now())
          ON CONFLICT (tree_size) DO NOTHING
          RETURNING tree_size, signed_at)
        INSERT INTO audit_signing_key
          (verifier_key, origin, public_key, first_tree_size, first_signed_at, last_tree_size, last_signed_at)
        SELECT ${key.verifierKey}, ${key.origin}, ${key.publicKeyPem}, tree_size, signed_at, tree_size, signed_at FROM saved
        ON CONFLICT (verifier_key) DO UPDATE
          SET last_tree_size = GREATEST(audit_signing_key.last_tree_size, EXCLUDED.last_tree_size),
              last_signed_at = GREATEST(audit_signing_key.last_signed_at, EXCLUDED.last_signed_at)`;
    },
    async signingKeys() {
      const rows = await prisma.$queryRaw<
        {
          verifier_key: string;
          origin: string;
          public_key: string;
          first_tree_size: bigint;
          first_signed_at: string;
          last_tree_size: bigint;
          last_signed_at: string;
        }[]
      >`
        SELECT verifier_key, origin, public_key, first_tree_size, last_tree_size,
               to_char(first_signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS first_signed_at,
               to_char(last_signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last_signed_at
        FROM audit_signing_key ORDER BY first_tree_size DESC, first_signed_at DESC`;
      return rows.map((r) => ({
        verifierKey: r.verifier_key,
        origin: r.origin,
        publicKeyPem: r.public_key,
        first: { treeSize: Number(r.first_tree_size), signedAt: r.first_signed_at },
        last: { treeSize: Number(r.last_tree_size), signedAt: r.last_signed_at },
      }));
    },
    latestCheckpoint: () => checkpointWhere(Prisma.empty),
    checkpointAt: (treeSize) => checkpointWhere(Prisma.sql`WHERE c.tree_size = ${treeSize}::bigint`),
    async saveCosignature(treeSize, witness, line) {
      await prisma.$executeRaw`
        INSERT INTO audit_cosignature (tree_size, witness, line, at) VALUES (${treeSize}::bigint, ${witness}, ${line}, now())
        ON CONFLICT (tree_size, witness) DO NOTHING`;
    },
    async lastCosigned(witness) {
      const [row] = await prisma.$queryRaw<
        { size: bigint | null }[]
      >`SELECT max(tree_size) AS size FROM audit_cosignature WHERE witness = ${witness}`;
      return Number(row?.size ?? 0);
    },
  };
}
