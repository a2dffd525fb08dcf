import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../../src/errors/codes';
import { SETTINGS } from '../../src/config/settings';
import { DECISION_REASONS, ERROR_REASONS } from '../../src/errors/reasons';

const ROOT = join(__dirname, '..', '..');
const page = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Rows of the table that follows `heading` in the page at `path`, keyed by the first cell's `code`. */
function tableRows(path: string, heading: string): Map<string, string[]> {
  const text = page(path);
  expect(text).toContain(heading);
  const section = text.slice(text.indexOf(heading));
  const rows = new Map<string, string[]>();
  let inTable = false;
  for (const line of section.split('\n').slice(1)) {
    if (line.startsWith('|')) {
      inTable = true;
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      const name = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
      if (name) rows.set(name, cells);
    } else if (inTable) break;
  }
  return rows;
}

test('when an error code is declared, then the README documents it with the same status, and the reverse', () => {
  const rows = tableRows('README.md', 'Codes are a public contract');
  expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  for (const [code, { status }] of Object.entries(ERROR_CODES)) expect(rows.get(code)?.[1]).toBe(String(status));
});

test('when a setting is declared, then docs/configuration.md and .env.example list it, and the reverse', () => {
  const rows = tableRows('docs/configuration.md', '# Configuration');
  expect([...rows.keys()].sort()).toEqual(Object.keys(SETTINGS).sort());
  for (const [name, setting] of Object.entries(SETTINGS))
    expect(rows.get(name)?.[2]).toBe('secret' in setting && setting.secret ? 'yes' : '');
  const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const isSecret = (name: string) => Boolean((SETTINGS as Record<string, { secret?: boolean }>)[name]?.secret);
  const listed = [...example.matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  const settingOf = (name: string) =>
    name.endsWith('_FILE') && isSecret(name.slice(0, -5)) ? name.slice(0, -5) : name;
  expect([...new Set(listed.map(settingOf))].sort()).toEqual(Object.keys(SETTINGS).sort());
  // Secrets only as files, and never active: a copy of .env.example holds no secret value, not even an example.
  for (const name of Object.keys(SETTINGS).filter(isSecret)) {
    expect(example).not.toMatch(new RegExp(`^#?\\s?${name}=`, 'm'));
    expect(example).toMatch(new RegExp(`^# ${name}_FILE=`, 'm'));
  }
});

test('when a decision reason is declared, then the reasons table of docs/access-control.md documents it, and the reverse', () => {
  const rows = tableRows('docs/access-control.md', 'Every decision carries a stable reason id');
  expect([...rows.keys()].sort()).toEqual(Object.keys(DECISION_REASONS).sort());
  for (const [reason, meaning] of Object.entries(DECISION_REASONS)) expect(rows.get(reason)?.[1]).toBe(meaning);
});

test('when an error reason is declared, then docs/errors.md documents it with its codes and meaning, and the reverse', () => {
  const rows = tableRows('docs/errors.md', 'Every reason an error carries');
  expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_REASONS).sort());
  for (const [reason, { codes, meaning }] of Object.entries(ERROR_REASONS)) {
    expect({ reason, codes: rows.get(reason)?.[1], meaning: rows.get(reason)?.[2] }).toEqual({
      reason,
      codes: codes.map((c) => `\`${c}\``).join(', '),
      meaning,
    });
  }
});
