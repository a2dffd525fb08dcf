/**
 * `npm run token -- --sub alice --roles editor --teams demo --ttl 1h [--name "Alice"] [--email a@example.com]`: mints a staff
 * token for the local default (or a development JWT_SECRET). Refuses production settings: real tokens come
 * from the identity provider.
 */
import { parseArgs } from 'node:util';
import { mintToken } from '../src/auth/mint';
import { ConfigError, loadConfig } from '../src/config/load';
import { localSecret } from '../src/secrets/kept';
import { TEAM_PATTERN } from '../src/ownership/teams';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n`);
  process.exit(2);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      roles: { type: 'string' },
      teams: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      name: { type: 'string' },
      email: { type: 'string' },
    },
  });
  if (process.env.NODE_ENV === 'production')
    fail('refusing to mint tokens with production settings (NODE_ENV=production): use your identity provider');
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    fail(err instanceof ConfigError ? err.message : String(err));
  }
  if (config.env === 'production')
    fail('refusing to mint tokens with production settings (NODE_ENV=production): use your identity provider');
  if (config.upstream.developerKey && !config.jwt.secret)
    fail('refusing: a real DeveloperKey is configured without a development JWT_SECRET');
  if (config.jwt.publicKey || config.jwt.jwksUrl)
    fail('the gateway verifies tokens with a public key or JWKS here; only the identity provider can sign them');
  if (!values.sub) fail('--sub is required (e.g. --sub alice)');
  const badTeam = (values.teams ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .find((t) => !TEAM_PATTERN.test(t));
  if (badTeam !== undefined)
    fail(`--teams: "${badTeam}" is not a team name (1-64 letters, digits, "_", ".", ":" or "-")`);
  const ttl = /^(\d+)([smhd])$/.exec(values.ttl ?? '');
  if (!ttl) fail('--ttl must look like 30m, 1h or 2d');
  const ttlS = Number(ttl[1]) * (UNITS[ttl[2] as string] ?? 1);
  if (ttlS > 30 * 86400) fail('--ttl may be at most 30d (the gateway refuses longer-lived tokens)');
  const secret = config.jwt.secret ?? localSecret(config.dataDir, 'local-jwt-secret');
  const token = mintToken(secret, {
    sub: values.sub,
    roles: (values.roles ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
    ...(values.teams !== undefined
      ? {
          teams: values.teams
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean),
        }
      : {}),
    ttlS,
    name: values.name,
    email: values.email,
    issuer: config.jwt.issuers[0],
    audience: config.jwt.audiences[0],
  });
  process.stdout.write(`${token}\n`);
}

main();
