import type { Logger } from 'pino';
import type { AppDeps } from './app';
import { createTokenVerifier } from './auth/verifier';
import type { Config } from './config/load';
import { loadPolicy } from './policy/policy';
import { createUpstream } from './upstream/client';
import { upstreamReachable } from './upstream/reachability';

/** Builds the real dependencies from validated configuration; tests build the same ones around their own simulator. */
export function composeGateway(config: Config, logger: Logger): AppDeps {
  const developerKey = config.upstream.developerKey;
  if (!developerKey) throw new Error('composeGateway needs a DeveloperKey (the local default provides one)');
  const policy = loadPolicy(config.policyFile);
  return {
    config,
    logger,
    verifier: createTokenVerifier(config.jwt),
    policy: () => policy,
    upstream: createUpstream({
      baseUrl: config.upstream.baseUrl,
      developerKey: () => developerKey,
      timeoutMs: config.upstream.timeoutMs,
      connections: config.upstream.connections,
      maxResponseBytes: config.upstream.maxResponseBytes,
    }),
    readiness: [upstreamReachable(config.upstream.baseUrl)],
    lifecycle: { draining: false },
  };
}
