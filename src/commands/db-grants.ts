/**
 * `npm run db:grants -- --role NAME` (in the image: `node dist/commands/db-grants.js --role NAME`): prints the GRANTs
 * for the gateway's least-privilege runtime role, to run as the schema's owner after `db:migrate`.
 */
import { parseArgs } from 'node:util';
import { RoleNameError, runtimeGrants } from '../db/grants';

try {
  const { values } = parseArgs({
    options: { role: { type: 'string' }, schema: { type: 'string', default: 'public' } },
  });
  if (!values.role) throw new RoleNameError('usage: npm run db:grants -- --role NAME [--schema public]');
  process.stdout.write(runtimeGrants(values.role, values.schema));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(64); // EX_USAGE
}
