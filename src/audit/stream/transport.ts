/**
 * How a batch reaches a sink. `send` resolves once the sink has acknowledged the whole batch (an HTTP 2xx, a file
 * written and fsynced, syslog bytes written and the connection still up after the acknowledgement window) and
 * rejects otherwise; the streamer then sends the same batch again. It must give up by `deadline` (a Date.now()
 * value): past it, the streamer's lease may have gone to another instance.
 */
export interface Transport {
  send(batch: Outgoing[], deadline: number): Promise<void>;
  close(): Promise<void>;
}

/** One entry as it leaves: its formatted line (one JSON object) and what a framing needs beside it. */
export interface Outgoing {
  seq: bigint;
  at: string;
  kind: string;
  line: string;
}

/** Why a sink refused or could not take a batch, as a stable code (metrics label, `system` entry). */
export type SinkFailure =
  'refused' | 'timeout' | 'unreachable' | 'rejected_status' | 'write_failed' | 'connection_lost';

export class SinkError extends Error {
  override name = 'SinkError';
  constructor(
    readonly failure: SinkFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Network errors by their code (never by message text). */
export function networkFailure(err: unknown): SinkFailure {
  const code = (err as { code?: unknown })?.code;
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return 'connection_lost';
  if ((err as { name?: unknown })?.name === 'AbortError' || (err as { name?: unknown })?.name === 'TimeoutError')
    return 'timeout';
  return 'unreachable';
}
