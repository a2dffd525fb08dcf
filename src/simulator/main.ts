import { readFileSync } from 'node:fs';
import { createSimulator } from './server';

const FLAGS = new Map([
  ['true', true],
  ['1', true],
  ['yes', true],
  ['false', false],
  ['0', false],
  ['no', false],
]);

function fail(message: string): never {
  process.stderr.write(`simulator: ${message}\n`);
  process.exit(1);
}

function flag(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return FLAGS.get(raw.toLowerCase()) ?? fail(`${name} must be true or false, not "${raw}".`);
}

function port(): number {
  const raw = process.env.SIMULATOR_PORT ?? '8181';
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  return value <= 65535 ? value : fail(`SIMULATOR_PORT must be a port number (0-65535), not "${raw}".`);
}

async function main(): Promise<void> {
  // SIMULATOR_DEVELOPER_KEY_FILE: the key as a Docker secret (deploy/compose.yaml), as the gateway reads it.
  const keyFile = process.env.SIMULATOR_DEVELOPER_KEY_FILE;
  const developerKey = keyFile ? readFileSync(keyFile, 'utf8').trim() : process.env.SIMULATOR_DEVELOPER_KEY;
  if (!developerKey) fail('SIMULATOR_DEVELOPER_KEY is required: the DeveloperKey clients must send (make one up).');
  const controlApi = flag('SIMULATOR_CONTROL_API', false);
  const simulator = createSimulator({ developerKey, seed: flag('SIMULATOR_SEED', true), controlApi });
  const url = await simulator.listen(port(), process.env.SIMULATOR_HOST || '127.0.0.1');
  const control = controlApi ? ` (control API: ${new URL('/_simulator/', url).href})` : '';
  process.stdout.write(
    `==> KLOUDLESS SIMULATOR, NOT THE REAL MANAGEMENT API; NEVER USE IN PRODUCTION: listening on ${url}${control}\n`,
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    simulator.close().then(
      () => process.exit(0),
      (err: unknown) => fail(`could not close: ${String(err)}`),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
