import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The request's path is readable from the folders, and each layer only leans on the ones below it:
 *   foundation  errors/ secrets/ db/ generated/ logging/  (the error table, secret masking, storage, process lines)
 *   domain      config/ catalogue/ policy/ auth/ audit/ ownership/ approvals/ actions/ upstream/ ratelimit/ metrics/ reload/
 *               witness/ simulator/ tracing/
 *   web         http/ pipeline/ routes/ openapi/ session/ console/ app-ui/ dev/ types/ cluster/ (WORKERS: the processes)
 *               startup/ (what the port answers before the gateway has started)
 *   entry       src/*.ts (bootstrap, app, compose, server), commands/ (db:migrate, db:grants)
 * Inside a layer, folders do not import each other in a cycle. The audit layer takes plain data, never Express.
 */
const SRC = join(__dirname, '..', '..', 'src');
const LAYERS: Record<string, number> = {
  errors: 0,
  secrets: 0,
  logging: 0,
  db: 0,
  generated: 0,
  config: 1,
  catalogue: 1,
  policy: 1,
  auth: 1,
  audit: 1,
  ownership: 1,
  approvals: 1,
  actions: 1,
  upstream: 1,
  ratelimit: 1,
  metrics: 1,
  reload: 1,
  tracing: 1,
  witness: 1,
  simulator: 1,
  http: 2,
  pipeline: 2,
  routes: 2,
  openapi: 2,
  session: 2,
  console: 2,
  'app-ui': 2,
  dev: 2,
  types: 2,
  cluster: 2,
  startup: 2,
  '.': 3,
  commands: 3,
};
const NAMES = ['foundation', 'domain', 'web', 'entry'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' || name === 'static' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const folderOf = (file: string) => relative(SRC, file).split('/').slice(0, -1)[0] ?? '.';
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|require\(\s*'([^']+)'\s*\)/g;

interface Edge {
  from: string;
  to: string;
  file: string;
  spec: string;
}

const edges: Edge[] = [];
const packages: { file: string; spec: string }[] = [];
for (const file of sourceFiles(SRC)) {
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? '';
    if (!spec.startsWith('.')) {
      packages.push({ file: relative(SRC, file), spec });
      continue;
    }
    const target = resolve(dirname(file), spec);
    edges.push({ from: folderOf(file), to: folderOf(`${target}.ts`), file: relative(SRC, file), spec });
  }
}

test('every folder of src/ has a layer', () => {
  const folders = [...new Set(sourceFiles(SRC).map(folderOf))].sort();
  expect(folders.filter((f) => !(f in LAYERS))).toEqual([]);
});

test('when a module imports another, then the other is in its own layer or a lower one', () => {
  const upward = edges
    .filter((e) => (LAYERS[e.to] ?? 9) > (LAYERS[e.from] ?? 9))
    .map((e) => `${e.file} (${NAMES[LAYERS[e.from]!]}) imports ${e.spec} (${NAMES[LAYERS[e.to]!] ?? 'unknown'})`);
  expect(upward).toEqual([]);
});

test('when production code reaches the local default (dev/), then only by a dynamic import production never takes', () => {
  const staticImports = edges
    .filter((e) => e.to === 'dev' && e.from !== 'dev')
    .filter((e) => !readFileSync(join(SRC, e.file), 'utf8').includes(`import('${e.spec}')`))
    .map((e) => `${e.file} imports ${e.spec}`);
  expect(staticImports).toEqual([]);
  // serve.ts is the one door, and it is guarded by the environment.
  expect(edges.filter((e) => e.to === 'dev' && e.from !== 'dev').map((e) => e.file)).toEqual(['serve.ts']);
  expect(readFileSync(join(SRC, 'serve.ts'), 'utf8')).toMatch(
    /config\.env === 'production'\s*\?\s*undefined\s*:\s*await \(await import\('\.\/dev\/local-default'\)\)/,
  );
});

test('when the audit folder is read, then it holds sub-folders by concern only, importing each other in one direction', () => {
  const audit = join(SRC, 'audit');
  expect(readdirSync(audit).filter((f) => f.endsWith('.ts'))).toEqual([]);
  const ORDER = ['trail', 'recording', 'review', 'log', 'stream', 'watch'];
  expect(readdirSync(audit).sort()).toEqual([...ORDER].sort());
  // Each imports only folders before it in ORDER, so there is no circle between them.
  const backwards: string[] = [];
  for (const file of sourceFiles(audit)) {
    const from = relative(audit, file).split('/')[0] as string;
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      if (!spec.startsWith('.')) continue;
      const target = relative(audit, resolve(dirname(file), spec));
      const to = target.split('/')[0] as string;
      if (target.startsWith('..') || to === from) continue;
      if (ORDER.indexOf(to) > ORDER.indexOf(from)) backwards.push(`${relative(SRC, file)} imports ${spec}`);
    }
  }
  expect(backwards).toEqual([]);
});

test('when folders import each other, then there is no cycle between them', () => {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) if (e.from !== e.to) graph.set(e.from, (graph.get(e.from) ?? new Set()).add(e.to));
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string, path: string[]) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      cycles.push([...path.slice(path.indexOf(node)), node].join(' → '));
      return;
    }
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
  expect(cycles).toEqual([]);
});

test('when the audit layer or the foundation is read, then it does not know Express', () => {
  const express = packages
    .filter((p) => /^express(-rate-limit)?$/.test(p.spec))
    .filter((p) => ['audit', 'errors', 'secrets', 'db'].includes(p.file.split('/')[0]!))
    .map((p) => `${p.file} imports ${p.spec}`);
  expect(express).toEqual([]);
});

/**
 * Errors are data until the edge (issue 23): below the web layer no module writes an HTTP header or answers with a
 * status. A domain refusal is a GatewayError with a code and hints (RefusalHints); src/http/ turns those into the
 * status (the error table) and headers (src/http/refusal-headers.ts).
 */
const DOMAIN_WITHOUT_HTTP = ['auth', 'catalogue', 'upstream', 'ownership', 'approvals', 'actions', 'policy', 'audit'];
const HTTP_ANSWER = [
  { what: 'an Express import', pattern: /from\s+'express'|import\(\s*'express'\s*\)/ },
  {
    what: 'a response header name',
    pattern: /'(Retry-After|WWW-Authenticate|Allow|Location|Cache-Control)'|\bAllow:\s/,
  },
  { what: 'a response status written', pattern: /\bres\.status\(|\.writeHead\(|statusCode\s*=/ },
];

test('when a domain module refuses something, then it names no HTTP status or header and imports no Express', () => {
  const found: string[] = [];
  for (const file of sourceFiles(SRC)) {
    if (!DOMAIN_WITHOUT_HTTP.includes(folderOf(file))) continue;
    const text = readFileSync(file, 'utf8');
    for (const { what, pattern } of HTTP_ANSWER) if (pattern.test(text)) found.push(`${relative(SRC, file)}: ${what}`);
  }
  expect(found).toEqual([]);
});
