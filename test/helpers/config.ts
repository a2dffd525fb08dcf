import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config/load';

/** The least a production configuration must set: each config test adds the settings it is about. */
export const PRODUCTION = {
  NODE_ENV: 'production',
  KLOUDLESS_DEVELOPER_KEY: 'dk-prod',
  JWT_SECRET: 'x'.repeat(40),
  JWT_ISSUER: 'https://idp.company.test/',
  JWT_AUDIENCE: 'gateway',
  DATABASE_URL: 'postgres://gateway@db:5432/gateway',
  AUDIT_HMAC_KEY: 'y'.repeat(40),
  AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};

/** What start-up would refuse in this environment (empty when it loads). */
export const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};
