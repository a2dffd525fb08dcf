import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { completeNodes, consistencyRanges, leafHash, naiveRoot, nodeKey, planRanges } from '../../src/audit/log/merkle';
import { checkpointBody, COSIGNATURE_V1, parseVkey, signerFor, signNote, verifyNote } from '../../src/audit/log/note';
import { addCheckpoint } from '../../src/witness/server';
import { fileState } from '../../src/witness/state';

/** c2sp.org/tlog-witness add-checkpoint, status by status, against the witness's own request handler. */
const log = signerFor('example.test/log', generateKeyPairSync('ed25519').privateKey);
const stranger = signerFor('example.test/log', generateKeyPairSync('ed25519').privateKey);
const witness = signerFor('witness.test/w', generateKeyPairSync('ed25519').privateKey, COSIGNATURE_V1);
const leaves = Array.from({ length: 20 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
const nodes = completeNodes(leaves);
const note = (size: number, signer = log, root = naiveRoot(leaves.slice(0, size))) =>
  signNote(checkpointBody({ origin: 'example.test/log', size, root }), signer);
const proof = (from: number, to: number) =>
  planRanges(consistencyRanges(from, to)).assemble((id) => nodes.get(nodeKey(id)) as Buffer);
const request = (old: number, hashes: Buffer[], checkpoint: string) =>
  `old ${old}\n${hashes.map((h) => `${h.toString('base64')}\n`).join('')}\n${checkpoint}`;

describe('a witness answering add-checkpoint', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'witness-')), 'state.json');
  const state = fileState(file);
  const w = { signer: witness, logs: [parseVkey(log.vkey)], state, logger: pino({ level: 'silent' }) };
  const add = (body: string) => addCheckpoint(w, () => 1_700_000_000, body);

  test('when the first checkpoint comes with old 0, then it is cosigned with a cosignature/v1 the witness key verifies, and remembered across a restart', () => {
    const res = add(request(0, [], note(5)));
    expect(res.status).toBe(200);
    expect(verifyNote(note(5) + res.body!, [parseVkey(witness.vkey)]).signedBy).toEqual(['witness.test/w']);
    expect(fileState(file).get('example.test/log')?.size).toBe(5);
  });

  test('when a later checkpoint comes with a valid consistency proof, then 200; with a wrong proof, 422 and nothing changes', () => {
    expect(add(request(5, proof(5, 9), note(9))).status).toBe(200);
    const forged = note(
      12,
      log,
      naiveRoot([...leaves.slice(0, 3), leafHash(Buffer.from('forged')), ...leaves.slice(4, 12)]),
    );
    expect(add(request(9, proof(9, 12), forged)).status).toBe(422);
    expect(state.get('example.test/log')?.size).toBe(9);
  });

  test('when the old size is not what the witness holds, then 409 with its size as text/x.tlog.size', () => {
    expect(add(request(5, proof(5, 12), note(12)))).toEqual({ status: 409, body: '9\n', type: 'text/x.tlog.size' });
  });

  test('when the same size comes with another root, then 409; with the same root, it is cosigned again', () => {
    expect(add(request(9, [], note(9, log, leafHash(Buffer.from('other'))))).status).toBe(409);
    expect(add(request(9, [], note(9))).status).toBe(200);
  });

  test('when the origin is unknown, the signature is not the log key, the old size exceeds the size or the body is malformed, then 404, 403, 400, 400', () => {
    expect(
      add(
        request(
          0,
          [],
          signNote(
            checkpointBody({ origin: 'other.test/log', size: 1, root: leaves[0]! }),
            signerFor('other.test/log', generateKeyPairSync('ed25519').privateKey),
          ),
        ),
      ).status,
    ).toBe(404);
    expect(add(request(9, proof(9, 12), note(12, stranger))).status).toBe(403);
    expect(add(request(13, [], note(12))).status).toBe(400);
    expect(add('old nine\n\n').status).toBe(400);
  });
});
