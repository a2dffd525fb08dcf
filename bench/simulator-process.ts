/**
 * The simulator in a process of its own, so the load generator, the gateway and the upstream each have their
 * own event loop. It keeps no request log: the simulator records every request for tests, which over a
 * benchmark's hundreds of thousands of requests would be the simulator's memory and GC, not the gateway's.
 *
 *   SIMULATOR_DEVELOPER_KEY=… PORT=8181 npx tsx bench/simulator-process.ts
 */
import { createSimulator } from '../src/simulator/server';

async function main(): Promise<void> {
  const developerKey = process.env.SIMULATOR_DEVELOPER_KEY;
  if (!developerKey) throw new Error('SIMULATOR_DEVELOPER_KEY is required');
  const simulator = createSimulator({ developerKey, seed: true });
  const url = await simulator.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  setInterval(() => simulator.clearRequests(), 250).unref();
  process.stdout.write(`simulator listening on ${url}\n`);
  process.on('SIGTERM', () => void simulator.close().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
