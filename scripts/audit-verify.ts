/**
 * `npm run audit:verify -- <check> …`: checks the audit log with its public key alone (issue 15,
 * docs/audit-format.md). Imports only src/audit/log/{offline,note,merkle,leaf} and src/audit/canonical-json: no database, no secret.
 *
 *   checkpoint   --key K --checkpoint FILE [--witness-key W]… [--min-cosignatures N]
 *   inclusion    --key K --checkpoint FILE --proof FILE (--entry FILE | --entries FILE --sequence N)
 *   consistency  --key K --old FILE --checkpoint FILE --proof FILE [--old-key K0]
 *                (--old-key: the kept checkpoint was signed before a rotation of the log's key, by K0; both keys are
 *                 listed by GET /v1/audit/public-key `keys`)
 *   rebuild      --key K --checkpoint FILE --entries FILE
 *
 * K and W: a verifier key string (`name+hex+base64`), or a file holding one or the JSON of GET /v1/audit/public-key.
 * Proof files: the JSON of GET /v1/audit/proof/…. Exit 0: verified; 1: it does not verify (the reason on stderr); 2: usage.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  checkCheckpoint,
  checkConsistency,
  checkInclusion,
  checkRebuilt,
  RootBuilder,
  VerifyFailure,
} from '../src/audit/log/offline';
import { NoteError, parseVkey, type NoteVerifier } from '../src/audit/log/note';

const USAGE =
  'usage: npm run audit:verify -- checkpoint|inclusion|consistency|rebuild --key K --checkpoint FILE [options] (see scripts/audit-verify.ts)';

function verifierKey(value: string): NoteVerifier {
  const text = existsSync(value) ? readFileSync(value, 'utf8').trim() : value;
  return parseVkey(text.startsWith('{') ? (JSON.parse(text) as { verifier_key: string }).verifier_key : text);
}

const proofOf = (file: string): string[] => (JSON.parse(readFileSync(file, 'utf8')) as { proof: string[] }).proof;

async function findLine(file: string, sequence: string): Promise<string> {
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line.includes(`"seq":"${sequence}"`) && (JSON.parse(line) as { seq: string }).seq === sequence) return line;
  }
  throw new VerifyFailure(`entry ${sequence} is not in ${file}`);
}

async function main(argv: string[]): Promise<string> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: 'string' },
      'old-key': { type: 'string' },
      checkpoint: { type: 'string' },
      old: { type: 'string' },
      proof: { type: 'string' },
      entry: { type: 'string' },
      entries: { type: 'string' },
      sequence: { type: 'string' },
      'witness-key': { type: 'string', multiple: true },
      'min-cosignatures': { type: 'string', default: '0' },
    },
  });
  const [check] = positionals;
  if (!values.key || !values.checkpoint || !check) throw new UsageError(USAGE);
  const policy = {
    log: verifierKey(values.key),
    witnesses: (values['witness-key'] ?? []).map(verifierKey),
    minCosignatures: Number(values['min-cosignatures']),
  };
  const checkpoint = checkCheckpoint(readFileSync(values.checkpoint, 'utf8'), policy);
  const head = `checkpoint ${checkpoint.origin} of ${checkpoint.size} entries: signature ok${checkpoint.cosignedBy.length ? `, cosigned by ${checkpoint.cosignedBy.join(', ')}` : ''}`;
  switch (check) {
    case 'checkpoint':
      return head;
    case 'inclusion': {
      if (!values.proof || !(values.entry || (values.entries && values.sequence))) throw new UsageError(USAGE);
      const line = values.entry
        ? readFileSync(values.entry, 'utf8').trim()
        : await findLine(values.entries as string, values.sequence as string);
      const { sequence } = checkInclusion(checkpoint, line, proofOf(values.proof));
      return `${head}\nentry ${sequence} is in the log`;
    }
    case 'consistency': {
      if (!values.old || !values.proof) throw new UsageError(USAGE);
      const oldKey = values['old-key'] ? verifierKey(values['old-key']) : policy.log;
      const old = checkCheckpoint(readFileSync(values.old, 'utf8'), { ...policy, log: oldKey, minCosignatures: 0 });
      checkConsistency(old, checkpoint, proofOf(values.proof), oldKey !== policy.log);
      return `${head}\nthe log only grew since the kept checkpoint of ${old.size} entries`;
    }
    case 'rebuild': {
      if (!values.entries) throw new UsageError(USAGE);
      const builder = new RootBuilder();
      for await (const line of createInterface({ input: createReadStream(values.entries), crlfDelay: Infinity })) {
        if (line.trim() !== '' && builder.size < checkpoint.size) builder.add(line);
      }
      checkRebuilt(checkpoint, builder);
      return `${head}\nthe root rebuilt from ${builder.size} exported entries matches`;
    }
    default:
      throw new UsageError(USAGE);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (message) => process.stdout.write(`ok: ${message}\n`),
  (err: Error) => {
    const known = err instanceof VerifyFailure || err instanceof NoteError;
    process.stderr.write(`${err instanceof UsageError ? '' : 'FAILED: '}${err.message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : known ? 1 : 2;
  },
);
