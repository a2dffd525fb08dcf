import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');
const COMMITTED = join(ROOT, 'src', 'generated', 'prisma');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

describe('the committed Prisma client', () => {
  let scratch: string;
  beforeEach(() => (scratch = mkdtempSync(join(tmpdir(), 'gw-generate-'))));
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  test('when the Prisma client is generated from schema.prisma now, then it is identical to src/generated/prisma', async () => {
    // The client embeds the schema text, output line included, so the schema is copied unchanged into
    // <scratch>/prisma: its relative output then lands in <scratch>/src/generated/prisma, and nothing differs
    // by location that would need normalising.
    mkdirSync(join(scratch, 'prisma'));
    copyFileSync(join(ROOT, 'prisma', 'schema.prisma'), join(scratch, 'prisma', 'schema.prisma'));
    await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'prisma', 'build', 'index.js'),
        'generate',
        '--schema',
        join(scratch, 'prisma', 'schema.prisma'),
      ],
      {
        cwd: ROOT,
        // `generate` needs no schema engine, but the CLI wants the file to exist rather than download one.
        env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, CHECKPOINT_DISABLE: '1' },
      },
    );

    const generated = join(scratch, 'src', 'generated', 'prisma');
    expect(filesUnder(generated)).toEqual(filesUnder(COMMITTED));
    for (const file of filesUnder(COMMITTED)) {
      const same = readFileSync(join(generated, file)).equals(readFileSync(join(COMMITTED, file)));
      expect({ file, same }).toEqual({ file, same: true });
    }
  }, 60_000);
});
