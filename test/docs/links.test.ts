import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The README and the docs/ pages link to each other and into the repository; a moved section must not leave a
 * dead link behind. Anchors are GitHub's: the heading lower-cased, punctuation dropped, spaces made hyphens.
 */
const ROOT = join(__dirname, '..', '..');
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (!heading) continue;
    const slug = (heading[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

function linksOf(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
}

test.each(PAGES)('when %s links inside the repository, then every file and anchor it names exists', (page) => {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const dead: string[] = [];
  for (const link of linksOf(text)) {
    if (/^[a-z]+:/i.test(link)) continue;
    const [path, anchor] = link.split('#') as [string, string | undefined];
    const target = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), path);
    if (!relative(ROOT, target) || relative(ROOT, target).startsWith('..') || !existsSync(target)) {
      dead.push(`${link} (no such file in the repository)`);
      continue;
    }
    if (anchor && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor))
      dead.push(`${link} (no such heading)`);
  }
  expect(dead).toEqual([]);
});

test('when a newcomer opens the README, then its first link stays inside the repository', () => {
  const first = linksOf(readFileSync(join(ROOT, 'README.md'), 'utf8'))[0];
  expect(first).toBeDefined();
  expect(first).not.toMatch(/^(\.\.\/|[a-z]+:)/i);
});
