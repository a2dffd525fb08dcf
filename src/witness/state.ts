import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What a witness remembers per log: the latest checkpoint it cosigned (c2sp.org/tlog-witness). */
export interface LogRecord {
  size: number;
  root: string;
  note: string;
}

export interface WitnessState {
  get(origin: string): LogRecord | undefined;
  /** Persists before returning (atomic rename): a cosignature is only ever given for what survives a crash. */
  set(origin: string, record: LogRecord): void;
}

export function fileState(file: string): WitnessState {
  let records: Record<string, LogRecord> = {};
  try {
    records = JSON.parse(readFileSync(file, 'utf8')) as Record<string, LogRecord>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // a damaged state must stop the witness, not reset it
  }
  return {
    get: (origin) => records[origin],
    set(origin, record) {
      const next = { ...records, [origin]: record };
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, `${JSON.stringify(next, null, 1)}\n`, { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      records = next;
    },
  };
}
