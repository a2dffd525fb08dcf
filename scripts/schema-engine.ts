/**
 * Offline access to Prisma's schema engine, for development and tests only. The Prisma CLI downloads a
 * native engine on first use, which machines without internet cannot do; the same engine is published
 * on npm as WebAssembly (@prisma/schema-engine-wasm, pinned to the engine hash prisma 7.10.0 ships) and is
 * driven here through the PGlite driver adapter. It is an internal Prisma API: test/db/migrations.test.ts
 * is the guard that it still answers as expected.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import * as wasmBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PrismaPGlite } from 'pglite-prisma-adapter';

export const ROOT = resolve(__dirname, '..');
export const SCHEMA_PATH = join(ROOT, 'prisma', 'schema.prisma');
export const MIGRATIONS_DIR = join(ROOT, 'prisma', 'migrations');

type WasmExports = Record<string, unknown>;
type Bindings = typeof wasmBindings & { __wbg_set_wasm(exports: WasmExports): void };
// The project compiles without the DOM lib, where these types live; Node has the global all the same.
const { WebAssembly: Wasm } = globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Buffer) => unknown;
    Instance: new (module: unknown, imports: unknown) => { exports: WasmExports };
  };
};
let started = false;

function startWasm(): void {
  if (started) return;
  const file = join(dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')), 'schema_engine_bg.wasm');
  const instance = new Wasm.Instance(new Wasm.Module(readFileSync(file)), { './schema_engine_bg.js': wasmBindings });
  (wasmBindings as Bindings).__wbg_set_wasm(instance.exports);
  (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
  started = true;
}

/** A PGlite-backed adapter factory whose shadow databases are closed when the engine is done with them. */
function pgliteFactory(pg: PGlite): SqlMigrationAwareDriverAdapterFactory {
  const base = new PrismaPGlite(pg);
  return {
    provider: 'postgres',
    adapterName: base.adapterName,
    connect: () => base.connect(),
    connectToShadowDb: async () => {
      const shadow = await PGlite.create();
      const adapter = await new PrismaPGlite(shadow).connect();
      return Object.assign(adapter, { dispose: () => shadow.close() });
    },
  };
}

export interface SchemaEngine {
  engine: wasmBindings.SchemaEngine;
  pg: PGlite;
  close(): Promise<void>;
}

export async function openSchemaEngine(): Promise<SchemaEngine> {
  startWasm();
  const pg = await PGlite.create();
  const engine = await wasmBindings.SchemaEngine.new(
    { datamodels: [[SCHEMA_PATH, readFileSync(SCHEMA_PATH, 'utf8')]] },
    () => undefined,
    bindMigrationAwareSqlAdapterFactory(pgliteFactory(pg)),
  );
  return { engine, pg, close: () => pg.close() };
}

export function schemaTarget() {
  return {
    tag: 'schemaDatamodel' as const,
    files: [{ path: SCHEMA_PATH, content: readFileSync(SCHEMA_PATH, 'utf8') }],
  };
}

export function migrationsSource() {
  const names = existsSync(MIGRATIONS_DIR)
    ? readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  const lock = join(MIGRATIONS_DIR, 'migration_lock.toml');
  return {
    tag: 'migrations' as const,
    baseDir: MIGRATIONS_DIR,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lock) ? readFileSync(lock, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok' as const, value: readFileSync(join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8') },
      },
    })),
  };
}

export const NO_FILTERS = { externalTables: [] as string[], externalEnums: [] as string[] };

/** SQL that takes the database the migrations produce to the one schema.prisma describes ('' when they agree). */
export async function pendingSchemaChange(se: SchemaEngine): Promise<string> {
  const result = await se.engine.diff({
    from: migrationsSource(),
    to: schemaTarget(),
    script: true,
    exitCode: true,
    filters: NO_FILTERS,
  } as never);
  return (result as { exitCode: number }).exitCode === 0 ? '' : (result as { stdout: string }).stdout;
}
