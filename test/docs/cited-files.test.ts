import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Comments and docs cite files by path ("checked by test/http/docs-in-step.test.ts", "see src/audit/log/note.ts"):
 * a file renamed or removed must not leave a citation to nothing behind. Every path under a top-level folder of the
 * repository, written out in full (no glob, no placeholder), must exist.
 */
const ROOT = join(__dirname, '..', '..');
const SCANNED = ['src', 'scripts', 'bench', 'test', 'docs', 'deploy', 'prisma', '.ci'];
const TOP_FILES = ['README.md', 'Dockerfile', 'package.json', '.env.example', 'jest.config.js'];
// Applied migrations are never edited (their checksum is checked at start-up): what they cite is history.
const SKIP = new Set(['node_modules', 'generated', 'fixtures', 'images', 'migrations']);
const TEXT = /\.(ts|js|mjs|md|sh|yaml|yml|sql|prisma|json|toml)$|^run$/;
// A repository path: a top-level folder, then path segments, then a file name with an extension.
const CITATION =
  /(?<![\w./-])((?:src|test|scripts|bench|docs|deploy|prisma)\/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.(?:ts|js|md|json|ya?ml|sh|sql|prisma))(?![\w*/{<-])/g;

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    if (SKIP.has(d.name)) return [];
    const path = `${dir}/${d.name}`;
    if (d.isDirectory()) return filesUnder(path);
    return TEXT.test(d.name) ? [path] : [];
  });
}

const SOURCES = [...SCANNED.filter((d) => existsSync(join(ROOT, d))).flatMap(filesUnder), ...TOP_FILES].filter(
  (f) => existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).size < 2_000_000,
);

test('when a comment or a page cites a file of the repository by its path, then that file exists', () => {
  const missing: string[] = [];
  for (const source of SOURCES) {
    const text = readFileSync(join(ROOT, source), 'utf8');
    for (const [, cited] of text.matchAll(CITATION)) {
      // bench/notes.md is a dated record of investigations: what it cites is history, like a migration's comments.
      if (source === 'bench/notes.md') continue;
      // The bench's data names the gateway's and its dependencies' own files (a profile's `where`), not citations.
      if (source === 'docs/benchmarks.json') continue;
      // The API docs page's assets are URLs the gateway serves (src/openapi/routes.ts), not files of the repository.
      if ((cited as string).startsWith('docs/assets/')) continue;
      // Written from inside a page of docs/, a path may be relative to it; either reading that exists will do.
      const candidates = [cited as string, relative(ROOT, join(ROOT, source, '..', cited as string))];
      if (!candidates.some((c) => existsSync(join(ROOT, c)))) missing.push(`${source}: ${cited}`);
    }
  }
  expect(missing).toEqual([]);
});

test('the scan sees the citations it is meant to check (it cannot pass by reading nothing)', () => {
  expect(SOURCES.length).toBeGreaterThan(200);
  const cited = readFileSync(join(ROOT, 'src/errors/codes.ts'), 'utf8').match(CITATION);
  expect(cited).toContain('test/http/docs-in-step.test.ts');
});
