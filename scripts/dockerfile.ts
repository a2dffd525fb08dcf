/**
 * The one reader of the Dockerfile: its instructions as a plan of stages and steps. scripts/container-check.ts
 * replays the plan outside Docker; test/ship/dockerfile.test.ts holds the image's hygiene rules against the same plan.
 * An instruction the replay does not model (ARG, ENTRYPOINT, RUN --mount, COPY --chown, …) is refused, so the
 * Dockerfile cannot grow something CI silently skips.
 */
import { posix } from 'node:path';

export type Step =
  | { kind: 'copy'; from: string | null; sources: string[]; dest: string }
  | { kind: 'run'; command: string }
  | { kind: 'env'; vars: Record<string, string> };

export interface Stage {
  name: string;
  image: string;
  workdir: string;
  steps: Step[];
  user: string | null;
  expose: string[];
  healthcheck: { options: Record<string, string>; command: string } | null;
  cmd: string[] | null;
}

export interface Plan {
  dockerfile: string;
  stages: Stage[];
  /** The build context: what `COPY <path>` (no --from) can see. */
  context: string[];
}

/** Instructions with continuation lines joined; comment lines dropped, also inside a continuation (as Docker does). */
function instructions(text: string): { keyword: string; args: string; line: number }[] {
  const out: { keyword: string; args: string; line: number }[] = [];
  let buffer: string | undefined;
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line) || (buffer === undefined && line.trim() === '')) return;
    if (buffer === undefined) start = index + 1;
    const continued = line.endsWith('\\');
    buffer = (buffer ?? '') + (continued ? line.slice(0, -1) : line);
    if (continued) return;
    const match = /^\s*(\w+)\s*([\s\S]*)$/.exec(buffer);
    if (!match) throw new Error(`Dockerfile:${start}: cannot read "${buffer}"`);
    out.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start });
    buffer = undefined;
  });
  if (buffer !== undefined) throw new Error('Dockerfile ends inside a continuation line');
  return out;
}

/** Shell-like words: quotes group and are removed, a backslash escapes (Docker's ENV and COPY rules). */
function words(args: string): string[] {
  const out: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const c = args[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < args.length) word += args[++i]!;
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else {
      word ??= '';
      if (c === '"' || c === "'") quote = c;
      else if (c === '\\' && i + 1 < args.length) word += args[++i]!;
      else word += c;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in "${args}"`);
  if (word !== undefined) out.push(word);
  return out;
}

function jsonArray(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `--name=value` flags in front of the arguments, refusing any the replay does not model. */
function flags(parts: string[], allowed: string[], where: string): Record<string, string> {
  const found: Record<string, string> = {};
  while (parts[0]?.startsWith('--')) {
    const [name, value = ''] = parts.shift()!.slice(2).split(/=(.*)/s);
    if (!allowed.includes(name!))
      throw new Error(`${where}: --${name} is not replayed by scripts/container-check.ts; teach it first`);
    found[name!] = value;
  }
  return found;
}

export function parseDockerfile(text: string, context: string[], dockerfile = 'Dockerfile'): Plan {
  const stages: Stage[] = [];
  for (const { keyword, args, line } of instructions(text)) {
    const where = `${dockerfile}:${line} ${keyword}`;
    const stage = stages[stages.length - 1];
    if (!stage && keyword !== 'FROM') throw new Error(`${where}: comes before FROM`);
    if (keyword !== 'RUN' && keyword !== 'HEALTHCHECK' && args.includes('$'))
      throw new Error(`${where}: variable substitution is not replayed`);
    switch (keyword) {
      case 'FROM': {
        const [image, as, name, ...rest] = words(args);
        if (!image || image.startsWith('--') || rest.length > 0 || (as && as.toUpperCase() !== 'AS') || (as && !name))
          throw new Error(`${where}: expected "FROM <image> [AS <name>]"`);
        if (stages.some((s) => s.name === image))
          throw new Error(`${where}: building FROM an earlier stage is not replayed`);
        stages.push({
          name: name ?? String(stages.length),
          image,
          workdir: '/',
          steps: [],
          user: null,
          expose: [],
          healthcheck: null,
          cmd: null,
        });
        break;
      }
      case 'WORKDIR':
        if (stage!.steps.length > 0) throw new Error(`${where}: set WORKDIR once, before the first COPY/RUN/ENV`);
        stage!.workdir = posix.resolve(stage!.workdir, args);
        break;
      case 'COPY': {
        const parts = jsonArray(args) ?? words(args);
        const { from = null } = flags(parts, ['from'], where);
        if (parts.length < 2) throw new Error(`${where}: expected sources and a destination`);
        if (from !== null && !stages.slice(0, -1).some((s) => s.name === from))
          throw new Error(`${where}: --from=${from} is not an earlier stage`);
        stage!.steps.push({ kind: 'copy', from, sources: parts.slice(0, -1), dest: parts[parts.length - 1]! });
        break;
      }
      case 'RUN':
        if (args.startsWith('--') || jsonArray(args))
          throw new Error(`${where}: use a plain shell-form command (no flags, no JSON form)`);
        stage!.steps.push({ kind: 'run', command: args });
        break;
      case 'ENV': {
        const parts = words(args);
        const vars = parts[0]?.includes('=')
          ? Object.fromEntries(
              parts.map((p) =>
                p.includes('=')
                  ? (p.split(/=(.*)/s).slice(0, 2) as [string, string])
                  : fail(`${where}: "${p}" is not NAME=value`),
              ),
            )
          : { [parts[0] ?? fail(`${where}: empty`)]: parts.slice(1).join(' ') };
        stage!.steps.push({ kind: 'env', vars });
        break;
      }
      case 'USER':
        stage!.user = args;
        break;
      case 'EXPOSE':
        stage!.expose.push(...words(args));
        break;
      case 'HEALTHCHECK': {
        const match = /^((?:--[\w-]+=\S+\s+)*)CMD\s+([\s\S]+)$/.exec(args);
        if (!match || jsonArray(match[2]!))
          throw new Error(`${where}: expected "HEALTHCHECK [--option=value …] CMD <shell command>"`);
        stage!.healthcheck = {
          options: flags(words(match[1]!), ['interval', 'timeout', 'start-period', 'start-interval', 'retries'], where),
          command: match[2]!.trim(),
        };
        break;
      }
      case 'CMD':
        // Shell form would make /bin/sh PID 1, which does not pass SIGTERM on to the gateway.
        stage!.cmd = jsonArray(args) ?? fail(`${where}: use the exec form, CMD ["node", …]`);
        break;
      case 'LABEL':
        break;
      default:
        throw new Error(`${where}: not replayed by scripts/container-check.ts; teach it first`);
    }
  }
  const runtime = stages[stages.length - 1];
  if (!runtime?.cmd) throw new Error(`${dockerfile}: the last stage has no CMD`);
  if (runtime.steps.some((s) => s.kind === 'run'))
    throw new Error(`${dockerfile}: the runtime stage has a RUN, which the replay cannot run outside the image`);
  return { dockerfile, stages, context };
}

function fail(message: string): never {
  throw new Error(message);
}
