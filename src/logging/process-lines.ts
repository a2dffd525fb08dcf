import { hostname } from 'node:os';

/**
 * What the process writes outside its logger: a configuration refusal, a start-up failure, a crash, a Node warning.
 * In production each is one JSON line shaped as pino writes (level, time, pid, hostname, msg) with a stable `code`,
 * so a log shipper parsing JSON keeps them (issue 28: 80 of 86 lines of a crashed run were plain text). Elsewhere
 * they stay plain text for a person at a terminal. docs/operations.md, "Log schema", lists the codes.
 */
export const PROCESS_LINE_CODES = {
  config_invalid: 'the configuration (or its fit with the database) was refused at start-up; exit 78',
  startup_failed:
    'start-up failed for another reason (e.g. a database that refuses the role or does not exist); exit 1',
  uncaught_exception: 'an exception nothing caught; the process exits 1',
  unhandled_rejection: 'a rejected promise nothing handled; the process exits 1',
  process_warning: 'a warning Node emitted (a deprecation, a listener leak); the process goes on',
} as const;
export type ProcessLineCode = keyof typeof PROCESS_LINE_CODES;

/** pino's numeric levels, as every line the gateway's processes write carries them (the log schema). */
export const LEVELS = { fatal: 60, error: 50, warn: 40, info: 30 } as const;

/** One line shaped as pino writes it: level (number), time (ms since the epoch), pid, hostname, the fields, msg. */
export function pinoShapedLine(level: keyof typeof LEVELS, fields: Record<string, unknown>, msg: string): string {
  return `${JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, hostname: hostname(), ...fields, msg })}\n`;
}

export interface ProcessLines {
  /** A configuration refusal: every problem, one per entry. */
  refused(problems: string[]): void;
  /** A failure that ends the process. */
  fatal(code: Exclude<ProcessLineCode, 'config_invalid' | 'process_warning'>, err: unknown): void;
  warning(warning: Error): void;
}

export function processLines(
  json: boolean,
  write: (line: string) => void = (l) => process.stderr.write(l),
): ProcessLines {
  const line = (level: keyof typeof LEVELS, code: ProcessLineCode, msg: string, fields: Record<string, unknown>) =>
    write(pinoShapedLine(level, { code, ...fields }, msg));
  return {
    refused(problems) {
      if (!json) return write(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
      line('fatal', 'config_invalid', 'invalid configuration: start-up refused', { problems });
    },
    fatal(code, err) {
      const e = err instanceof Error ? err : new Error(String(err));
      if (!json) return write(`fatal: ${e.stack ?? e.message}\n`);
      line('fatal', code, e.message, { err: { type: e.name, message: e.message, stack: e.stack } });
    },
    warning(warning) {
      if (!json) return write(`${warning.name}: ${warning.message}\n`);
      line('warn', 'process_warning', warning.message, { warning: { type: warning.name } });
    },
  };
}

/**
 * In production: crashes and warnings as JSON lines. Node's default for both is plain text on stderr; an uncaught
 * exception still ends the process (exit 1), as Node's default would, after its line is written.
 */
export function installProcessLines(lines: ProcessLines): void {
  process.removeAllListeners('warning');
  process.on('warning', (w) => lines.warning(w));
  process.on('uncaughtException', (err) => {
    lines.fatal('uncaught_exception', err);
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    lines.fatal('unhandled_rejection', reason);
    process.exit(1);
  });
}
