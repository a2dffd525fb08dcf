import cluster from 'node:cluster';
import { ConfigError, loadConfig, type Config } from './config/load';
import { createLogger } from './http/logger';
import { installProcessLines, processLines } from './logging/process-lines';

// Decided before the configuration is read: its refusal must be JSON in production too.
const lines = processLines(process.env.NODE_ENV === 'production');
if (process.env.NODE_ENV === 'production') installProcessLines(lines);

/**
 * Bootstrap only: load the configuration, then serve in this process (WORKERS=1, or a forked worker) or run the
 * cluster's primary. Each path is imported when taken, so the primary holds no Express, Prisma or database client.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    lines.refused(err.problems);
    process.exit(78); // EX_CONFIG
  }
  if (config.workers > 1 && cluster.isPrimary) {
    const { runPrimary } = await import('./cluster/primary');
    await runPrimary(config, createLogger(config.logLevel));
    return;
  }
  const { serveGateway } = await import('./serve');
  await serveGateway(config);
}

main().catch((err) => {
  // A problem found at start-up in the configuration's fit with the database (e.g. an audit key missing): said plainly.
  if (err instanceof ConfigError) {
    lines.refused(err.problems);
    process.exit(78); // EX_CONFIG
  }
  lines.fatal('startup_failed', err);
  process.exit(1);
});
