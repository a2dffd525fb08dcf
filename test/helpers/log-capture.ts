import { Writable } from 'node:stream';

/** A pino destination that keeps every line, so tests assert on what was logged. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });

  entries(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  requestLine(requestId: string): Record<string, unknown> | undefined {
    return this.entries().find((e) =>
      e.msg === 'request completed' || e.msg === 'request failed'
        ? (e.req as { id?: string })?.id === requestId
        : false,
    );
  }
}
