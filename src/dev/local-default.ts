import { randomBytes } from 'node:crypto';
import type { Config } from '../config/load';
import type { Simulator } from '../simulator/server';
import type { AuditRecorder } from '../audit/recorder';
import type { OwnershipStore } from '../ownership/store';
import { localSecret } from '../secrets/kept';

/** The team the local default's example applications belong to: `npm run token -- --teams demo` reaches them. */
export const DEMO_TEAM = 'demo';

export interface LocalDefault {
  config: Config;
  simulator: Simulator;
}

/**
 * Like `vault server -dev`: with no DeveloperKey configured outside production, the gateway fronts
 * the in-repo simulator with a key made up for it, and signs staff tokens with a secret kept in
 * DATA_DIR so tokens minted earlier stay valid across restarts. Never reachable in production:
 * loadConfig refuses to start there without a key.
 */
export async function startLocalDefault(config: Config): Promise<LocalDefault> {
  if (config.env === 'production') throw new Error('the local default never runs in production');
  const developerKey = `sim-${randomBytes(18).toString('base64url')}`;
  const simulator = (await import('../simulator/server')).createSimulator({ developerKey, seed: true });
  const baseUrl = await simulator.listen(0, '127.0.0.1');
  const hasJwtKey = Boolean(config.jwt.secret || config.jwt.publicKey || config.jwt.jwksUrl);
  return {
    simulator,
    config: {
      ...config,
      upstream: { ...config.upstream, baseUrl, developerKey },
      jwt: hasJwtKey
        ? config.jwt
        : { ...config.jwt, secret: localSecret(config.dataDir, 'local-jwt-secret'), algorithms: ['HS256'] },
    },
  };
}

/**
 * Outside production, an unset AUDIT_HMAC_KEY is generated once and kept in DATA_DIR, so the chain
 * written by one run still verifies in the next.
 */
export function withLocalAuditKey(config: Config): Config {
  if (config.audit.hmacKey || config.env === 'production') return config;
  return { ...config, audit: { ...config.audit, hmacKey: localSecret(config.dataDir, 'local-audit-hmac-key') } };
}

/** Gives the simulator's example applications to the demo team (once: ownership is kept in DATA_DIR), through the trail. */
export async function ownDemoApplications(
  deps: {
    ownership: { store: Pick<OwnershipStore, 'ownerOf'> };
    audit: { recorder: Pick<AuditRecorder, 'recordOwnershipChange'> };
  },
  simulator: Simulator,
): Promise<void> {
  for (const app of simulator.store.listApplications()) {
    if (await deps.ownership.store.ownerOf(app.id)) continue;
    await deps.audit.recorder.recordOwnershipChange(undefined, {
      applicationId: app.id,
      from: null,
      to: DEMO_TEAM,
      via: 'local_default',
    });
  }
}
