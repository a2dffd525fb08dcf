import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { verifyConsistency } from '../audit/log/merkle';
import {
  cosign,
  NoteError,
  parseCheckpointBody,
  parseNote,
  verifyNote,
  type NoteSigner,
  type NoteVerifier,
} from '../audit/log/note';
import type { WitnessState } from './state';

/**
 * A witness (c2sp.org/tlog-witness, add-checkpoint): it cosigns a log's checkpoint only if the log's key
 * signed it and a consistency proof shows it extends the checkpoint this witness cosigned last. A log that
 * rewrote its history cannot produce that proof, so it is refused by someone outside the gateway.
 */

export interface WitnessOptions {
  /** The witness's own key (cosignature/v1, type 0x04). */
  signer: NoteSigner;
  /** The logs it witnesses: their keys, by name (= origin). */
  logs: NoteVerifier[];
  state: WitnessState;
  logger: Logger;
  clock?: () => number;
}

const MAX_BODY = 64 * 1024;
const MAX_PROOF_LINES = 63;

interface Answer {
  status: number;
  body?: string;
  type?: string;
}

export function createWitness(o: WitnessOptions): Server {
  const clock = o.clock ?? (() => Math.floor(Date.now() / 1000));
  // Checking the old size and persisting the new checkpoint happen as one step: requests are served one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  return createServer((req, res) => {
    if (req.method !== 'POST' || !req.url?.replace(/\/+$/, '').endsWith('/add-checkpoint'))
      return send(res, { status: 404, body: 'not found\n' });
    void readBody(req).then(
      (body) => {
        const answer = body === undefined ? { status: 413 } : (queue = queue.then(() => addCheckpoint(o, clock, body)));
        return Promise.resolve(answer).then((a) => send(res, a as Answer));
      },
      () => send(res, { status: 400 }),
    );
  });
}

export function addCheckpoint(o: WitnessOptions, clock: () => number, request: string): Answer {
  const split = request.indexOf('\n\n');
  if (split < 0)
    return { status: 400, body: 'the body is an old size line, proof lines, a blank line and a checkpoint\n' };
  const [oldLine, ...proofLines] = request.slice(0, split).split('\n');
  const note = request.slice(split + 2);
  const oldMatch = /^old (0|[1-9]\d{0,15})$/.exec(oldLine ?? '');
  if (!oldMatch || proofLines.length > MAX_PROOF_LINES || proofLines.some((l) => !/^[A-Za-z0-9+/]{43}=$/.test(l)))
    return { status: 400, body: 'malformed old size or proof line\n' };
  const old = Number(oldMatch[1]);
  let origin: string;
  let checkpoint: ReturnType<typeof parseCheckpointBody>;
  try {
    checkpoint = parseCheckpointBody(parseNote(note).body);
    origin = checkpoint.origin;
  } catch {
    return { status: 403, body: 'not a checkpoint\n' };
  }
  const keys = o.logs.filter((k) => k.name === origin);
  if (keys.length === 0) return { status: 404, body: 'unknown log\n' };
  try {
    verifyNote(note, keys);
  } catch (err) {
    if (err instanceof NoteError) return { status: 403, body: "no valid signature from the log's key\n" };
    throw err;
  }
  if (old > checkpoint.size) return { status: 400, body: 'old size above the checkpoint size\n' };
  const held = o.state.get(origin);
  const heldSize = held?.size ?? 0;
  if (old !== heldSize) return { status: 409, body: `${heldSize}\n`, type: 'text/x.tlog.size' };
  const proof = proofLines.map((l) => Buffer.from(l, 'base64'));
  const refuse = (status: number, why: string): Answer => {
    // Kept as evidence: a log-signed checkpoint that does not extend what it signed before.
    o.logger.error(
      { origin, old, size: checkpoint.size, why, note },
      'witness refused a checkpoint: the log history is inconsistent',
    );
    return { status, body: `${why}\n` };
  };
  if (held && old === checkpoint.size) {
    if (held.root !== checkpoint.root.toString('base64')) return refuse(409, 'same size, another root');
  } else if (old === 0) {
    if (proof.length > 0) return refuse(422, 'a proof from size 0 must be empty');
  } else if (
    !verifyConsistency(
      old,
      checkpoint.size,
      proof,
      Buffer.from((held as { root: string }).root, 'base64'),
      checkpoint.root,
    )
  ) {
    return refuse(422, 'the consistency proof does not verify');
  }
  o.state.set(origin, { size: checkpoint.size, root: checkpoint.root.toString('base64'), note });
  const body = parseNote(note).body;
  return { status: 200, body: cosign(body, o.signer, clock()), type: 'text/plain; charset=utf-8' };
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, a: Answer): void {
  res.writeHead(a.status, { 'content-type': a.type ?? 'text/plain; charset=utf-8' });
  res.end(a.body ?? '');
}
