import type { IncomingHttpHeaders } from 'node:http';
import type { SimulatorStore } from './store';

/** Attributes as the reference lists them (Applications). */
export interface Application {
  id: string;
  name: string;
  description: string;
  logo_url: string;
  active: boolean;
  implicit_grant_enabled: boolean;
  recent_enabled: boolean;
  events_enabled: boolean;
  created: string;
  modified: string;
}

export interface ApiKey {
  key: string;
  created: string;
  modified: string;
}

export interface Webhook {
  id: string;
  url: string;
  created: string;
  modified: string;
}

export interface Page<T> {
  total: number;
  count: number;
  page: number;
  objects: T[];
}

export interface RecordedRequest {
  method: string;
  /** The path exactly as received (not percent-decoded, trailing slash kept), without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON; undefined when the body was empty or not valid JSON. */
  body: unknown;
  rawBody: string;
  receivedAt: Date;
}

export interface FaultMatch {
  /** Compared case-insensitively. */
  method?: string;
  /** Compared with the raw path as received, e.g. `/v1/applications`. */
  pathPrefix?: string;
}

interface FaultScope {
  /** Apply to this many matching requests, then clear. Default: until cleared. */
  times?: number;
  match?: FaultMatch;
}

export type Fault = FaultScope &
  (
    | { kind: 'delay'; ms: number }
    | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
    | { kind: 'reset' }
    | { kind: 'reset-mid-body' }
    | { kind: 'garbage' }
    | { kind: 'oversized'; bytes: number }
    | { kind: 'redirect'; status: number; location: string }
  );

export interface SimulatorOptions {
  developerKey: string;
  /** Adds the reference's three example applications (fixed ids) and its example API key. */
  seed?: boolean;
  /** Serves `/_simulator/*` without auth. Off by default. */
  controlApi?: boolean;
}

export interface Simulator {
  /** Resolves to the base URL, e.g. `http://127.0.0.1:PORT/v1`. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops listening and closes every connection, idle keep-alive ones included. */
  close(): Promise<void>;
  /** The base URL; throws before listen(). */
  readonly url: string;
  /** Every request received, oldest first, control API requests excepted. Cleared in place. */
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  /** Back to the initial state: store (re-seeded if `seed`), recorded requests and fault. */
  reset(): void;
  setFault(fault: Fault | null): void;
  readonly store: SimulatorStore;
}
