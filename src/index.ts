import { buildApp } from './app';
import { mintToken } from './auth/mint';
import { composeGateway } from './compose';
import { ConfigError, loadConfig, type Config } from './config/load';
import { DEMO_TEAM, ownDemoApplications, startLocalDefault, withLocalAuditKey } from './dev/local-default';
import { createLogger } from './http/logger';
import { startWebServer } from './server';
import { startMetricsServer } from './metrics/server';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const logger = createLogger(config.logLevel);
  const local = config.upstream.developerKey ? undefined : await startLocalDefault(config);
  if (local) config = local.config;
  config = withLocalAuditKey(config);

  const gateway = await composeGateway(config, logger);
  const { deps } = gateway;
  if (local) await ownDemoApplications(deps, local.simulator);
  const running = await startWebServer(buildApp(deps), config);
  const metricsServer = await startMetricsServer(gateway.metrics.registry, config.metrics.host, config.metrics.port);
  if (local && config.jwt.secret) printLocalBanner(running.url, config.jwt.secret);
  logger.info(
    { url: running.url, metrics: metricsServer.url, upstream: config.upstream.baseUrl, env: config.env, local_default: Boolean(local), audit_store: gateway.database.kind },
    'gateway listening',
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.lifecycle!.draining = true;
    logger.info({ signal }, 'draining: finishing in-flight requests');
    await running.stop();
    await metricsServer.stop();
    await gateway.close();
    await local?.simulator.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: re-reading the DeveloperKey file and the policy file');
    void gateway.reload('SIGHUP');
  });
}

function printLocalBanner(url: string, secret: string): void {
  const token = mintToken(secret, { sub: 'local-admin', roles: ['admin'], teams: [DEMO_TEAM], ttlS: 12 * 3600, name: 'Local Admin' });
  process.stdout.write(
    [
      '',
      '==> LOCAL DEFAULT: the gateway fronts the built-in Kloudless simulator, not the real API.',
      '    Set KLOUDLESS_DEVELOPER_KEY and a JWT key (see README) to run the real gateway.',
      '',
      `    Admin token (12 h):  ${token}`,
      '',
      '    Try:',
      `    curl -H "Authorization: Bearer ${token}" ${url}/v1/applications`,
      '',
      '    Other roles:    npm run token -- --sub alice --roles editor --teams demo --ttl 1h',
      '                    (the example applications belong to team "demo"; the admin token reaches every team)',
      `    Audit console:  ${url}/console/  (sign in with an admin or auditor token)`,
      `    API reference:  ${url}/docs`,
      '',
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  // A problem found at start-up in the configuration's fit with the database (e.g. an audit key missing): said plainly.
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  process.stderr.write(`fatal: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
