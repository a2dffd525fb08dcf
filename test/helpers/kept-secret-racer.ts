/**
 * One of the processes of test/process/kept-secrets.test.ts: waits for the agreed start time, then makes (or
 * finds) `count` kept secrets in one directory and prints what it got, as JSON.
 */
import { randomBytes } from 'node:crypto';
import { keptSecret } from '../../src/secrets/kept';

const [dir, count, start] = process.argv.slice(2) as [string, string, string];
while (Date.now() < Number(start)); // all processes begin together, as the workers of one gateway do
const got = Array.from({ length: Number(count) }, (_, i) =>
  keptSecret(dir, `secret-${i}`, () => `${randomBytes(32).toString('base64url')}\n`),
);
process.stdout.write(JSON.stringify(got));
