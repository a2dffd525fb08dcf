/**
 * `npm run ownership:import -- owners.csv [--url http://127.0.0.1:8080] [--token …] [--allow-new-teams]`: gives
 * applications to teams through a running gateway's `POST /v1/ownership/import`, 1,000 pairs a call (the
 * gateway's limit). The token (`--token`, else GATEWAY_TOKEN) needs `ownership.manage`; the URL may also come
 * from GATEWAY_URL.
 *
 * The file holds `application_id,team` rows; a header row with those names is optional. The whole file is
 * checked before anything is sent (shape, names, an application named twice). The gateway then refuses a call
 * as a whole when any of its pairs is unacceptable; the script stops at the first refused call and says which
 * rows were applied before it. Pairs that are already true come back `unchanged`, so the corrected file can
 * simply be run again.
 *
 * Exit codes: 0 every pair applied; 1 the gateway refused or failed a call; 2 bad arguments or a bad file.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { ID_PATTERN } from '../src/catalogue/schemas';
import { TEAM_PATTERN } from '../src/ownership/teams';

const CHUNK = 1_000;

interface Row {
  line: number;
  application_id: string;
  team: string;
}

interface ImportAnswer {
  assigned: number;
  transferred: number;
  unchanged: number;
  failed: number;
  results: { application_id: string; team: string; status: string; error?: string }[];
}

interface ErrorAnswer {
  error?: { code?: string; message?: string; request_id?: string; details?: Record<string, unknown>[] };
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const complain = (line: string) => process.stderr.write(`ownership:import: ${line}\n`);

function fail(message: string, code = 2): never {
  complain(message);
  process.exit(code);
}

/** Every row of the file, or every reason it cannot be imported, by line number. */
function readPairs(text: string): { rows: Row[]; problems: string[] } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // csv-parse's types do not model `info: true`, with which each record comes as { record, info }.
    records = parse(text, {
      info: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      bom: true,
    }) as unknown as typeof records;
  } catch (err) {
    return { rows: [], problems: [`not a CSV file: ${(err as Error).message}`] };
  }
  const first = records[0]?.record.map((c) => c.toLowerCase());
  if (first?.[0] === 'application_id' && first[1] === 'team') records.shift();
  const rows: Row[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of records) {
    const line = info.lines;
    const [applicationId = '', team = ''] = record;
    if (record.length !== 2)
      problems.push(`line ${line}: expected 2 columns (application_id,team), found ${record.length}`);
    else if (!ID_PATTERN.test(applicationId))
      problems.push(`line ${line}: "${applicationId}" is not an application id (1-128 letters, digits, "_" or "-")`);
    else if (!TEAM_PATTERN.test(team))
      problems.push(`line ${line}: "${team}" is not a team name (1-64 letters, digits, "_", ".", ":" or "-")`);
    else if (seen.has(applicationId))
      problems.push(`line ${line}: ${applicationId} is already given to a team on line ${seen.get(applicationId)}`);
    else {
      seen.set(applicationId, line);
      rows.push({ line, application_id: applicationId, team });
    }
  }
  if (records.length === 0) problems.push('the file holds no application_id,team rows');
  return { rows, problems };
}

/** The gateway's details name pairs by their index in the call (`pairs.12`): say which line of the file that is. */
function describeDetail(detail: Record<string, unknown>, chunk: Row[]): string {
  const index = /^pairs\.(\d+)/.exec(String(detail.field ?? ''))?.[1];
  const row = index === undefined ? undefined : chunk[Number(index)];
  const where = row
    ? `line ${row.line} (${row.application_id},${row.team})`
    : String(detail.field ?? detail.location ?? 'request');
  return `${where}: ${String(detail.code ?? detail.reason ?? 'refused')}${detail.message ? `: ${String(detail.message)}` : ''}`;
}

async function main(): Promise<void> {
  const usage = 'npm run ownership:import -- owners.csv [--url URL] [--token TOKEN] [--allow-new-teams]';
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        'allow-new-teams': { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\nusage: ${usage}`);
  }
  const { values, positionals } = args;
  if (positionals.length !== 1) fail(`name one CSV file: ${usage}`);
  const token = values.token ?? process.env.GATEWAY_TOKEN;
  if (!token) fail('a token with ownership.manage is required: --token TOKEN or GATEWAY_TOKEN');
  let base: URL;
  try {
    base = new URL(values.url ?? process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080');
  } catch {
    fail(`--url: "${values.url ?? process.env.GATEWAY_URL}" is not a URL`);
  }
  let text: string;
  try {
    text = readFileSync(positionals[0]!, 'utf8');
  } catch (err) {
    fail(`cannot read ${positionals[0]}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const { rows, problems } = readPairs(text);
  if (problems.length > 0) {
    for (const p of problems) complain(p);
    fail(`nothing sent: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${positionals[0]}`);
  }

  const totals = { assigned: 0, transferred: 0, unchanged: 0, failed: 0 };
  const calls = Math.ceil(rows.length / CHUNK);
  for (let call = 0; call < calls; call++) {
    const chunk = rows.slice(call * CHUNK, (call + 1) * CHUNK);
    const span = `lines ${chunk[0]!.line}-${chunk.at(-1)!.line}`;
    let res: Response;
    try {
      res = await fetch(new URL('/v1/ownership/import', base), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          pairs: chunk.map(({ application_id, team }) => ({ application_id, team })),
          allow_new_teams: values['allow-new-teams'],
        }),
      });
    } catch (err) {
      stopped(call, rows, totals, `the gateway at ${base.origin} could not be reached (${describeNetworkError(err)})`);
    }
    const body = (await res.json().catch(() => ({}))) as ImportAnswer & ErrorAnswer;
    if (res.status !== 200 && res.status !== 503) {
      const e = body.error;
      for (const detail of e?.details ?? []) complain(describeDetail(detail, chunk));
      stopped(
        call,
        rows,
        totals,
        `call ${call + 1} of ${calls} (${span}) refused: ${res.status} ${e?.code ?? ''} ${e?.message ?? ''}${e?.request_id ? ` (request ${e.request_id})` : ''}`.trim(),
      );
    }
    if (!Array.isArray(body.results)) {
      stopped(
        call,
        rows,
        totals,
        `call ${call + 1} of ${calls} (${span}): ${res.status} ${body.error?.code ?? 'unexpected answer'} ${body.error?.message ?? ''}`.trim(),
      );
    }
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += body[key];
    const lineOf = new Map(chunk.map((r) => [r.application_id, r.line]));
    for (const r of body.results.filter((x) => x.status === 'failed'))
      complain(
        `line ${lineOf.get(r.application_id)} (${r.application_id},${r.team}): not applied: ${r.error ?? 'failed'}`,
      );
    say(`call ${call + 1} of ${calls} (${span}): ${summary(body)}`);
    if (body.failed > 0)
      stopped(
        call + 1,
        rows,
        totals,
        `${body.failed} pair${body.failed === 1 ? '' : 's'} of call ${call + 1} not applied (run the file again: pairs already applied come back unchanged)`,
      );
  }
  say(`done: ${rows.length} pairs, ${summary(totals)}`);
}

/** fetch() says only "fetch failed"; the reason (ECONNREFUSED, a bad port, …) is in its cause. */
function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? String(err);
}

function summary(t: { assigned: number; transferred: number; unchanged: number; failed: number }): string {
  return `${t.assigned} assigned, ${t.transferred} transferred, ${t.unchanged} unchanged, ${t.failed} failed`;
}

/** Says what was applied before the call that stopped the import, and exits 1. */
function stopped(appliedCalls: number, rows: Row[], totals: Parameters<typeof summary>[0], why: string): never {
  complain(why);
  const applied = Math.min(rows.length, appliedCalls * CHUNK);
  if (applied === 0) complain('nothing was changed');
  else
    complain(
      `applied before stopping: lines ${rows[0]!.line}-${rows[applied - 1]!.line} (${summary(totals)}); the rest was not sent`,
    );
  process.exit(1);
}

main().catch((err: unknown) => fail(String((err as Error).stack ?? err), 1));
