import { isIP } from 'node:net';

/** How a sink is reached. `http` is allowed to loopback addresses only (a receiver on the same host or pod). */
export type SinkTransport = 'https' | 'http' | 'syslog+tls' | 'syslog+tcp' | 'file';
export type SinkFormat = 'native' | 'ocsf';

/** One sink of AUDIT_SINKS, parsed and checked at start-up. */
export interface SinkSpec {
  /** The URL with any credential masked and the query sorted: the sink's name in metrics, logs and its cursor row. */
  id: string;
  transport: SinkTransport;
  format: SinkFormat;
  url: URL;
  /** https/http: `envelope=splunk-hec` wraps each event as Splunk's HTTP Event Collector expects. */
  envelope: 'none' | 'splunk-hec';
  /** file: rotate past this many bytes, keeping `keep` older files (path.1 … path.keep). */
  maxBytes: number;
  keep: number;
}

/** Options a sink URL's query may carry; anything else is refused (a typo must not be ignored). */
const OPTIONS: Record<string, SinkTransport[]> = {
  format: ['https', 'http', 'syslog+tls', 'syslog+tcp', 'file'],
  envelope: ['https', 'http'],
  max_bytes: ['file'],
  keep: ['file'],
};

const TRANSPORTS: Record<string, SinkTransport> = {
  'https:': 'https',
  'http:': 'http',
  'syslog+tls:': 'syslog+tls',
  'syslog+tcp:': 'syslog+tcp',
  'file:': 'file',
};

export const DEFAULT_FILE_MAX_BYTES = 100 * 1024 * 1024;
export const DEFAULT_FILE_KEEP = 5;

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Parses AUDIT_SINKS' URLs; each problem names the sink by its masked URL. */
export function parseSinks(urls: string[]): { sinks: SinkSpec[]; problems: string[] } {
  const sinks: SinkSpec[] = [];
  const problems: string[] = [];
  for (const text of urls) {
    const parsed = parseSink(text);
    if (typeof parsed === 'string') problems.push(`AUDIT_SINKS: ${parsed}`);
    else if (sinks.some((s) => s.id === parsed.id)) problems.push(`AUDIT_SINKS: ${parsed.id} is listed twice`);
    else sinks.push(parsed);
  }
  return { sinks, problems };
}

function parseSink(text: string): SinkSpec | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL: ${maskText(text)}`;
  }
  const id = sinkId(url);
  const transport = TRANSPORTS[url.protocol];
  if (!transport) return `${id}: the scheme must be https, http (loopback only), syslog+tls, syslog+tcp or file`;
  for (const key of url.searchParams.keys())
    if (!OPTIONS[key]?.includes(transport)) return `${id}: unknown option ${key} for a ${transport} sink`;
  const format = url.searchParams.get('format') ?? 'native';
  if (format !== 'native' && format !== 'ocsf') return `${id}: format must be native or ocsf`;
  const envelope = url.searchParams.get('envelope') ?? 'none';
  if (envelope !== 'none' && envelope !== 'splunk-hec') return `${id}: envelope must be none or splunk-hec`;
  if (transport === 'http' && !isLoopback(url.hostname))
    return `${id}: http:// is allowed to a loopback address only; use https://`;
  if (transport.startsWith('syslog') && (!url.hostname || !url.port || (url.pathname !== '' && url.pathname !== '/')))
    return `${id}: a syslog sink is syslog+tls://host:port or syslog+tcp://host:port`;
  if (transport === 'file' && (url.hostname !== '' || url.pathname.endsWith('/')))
    return `${id}: a file sink is file:///absolute/path/to/file`;
  const maxBytes = positive(url.searchParams.get('max_bytes'), DEFAULT_FILE_MAX_BYTES, 1024);
  const keep = positive(url.searchParams.get('keep'), DEFAULT_FILE_KEEP, 1);
  if (maxBytes === undefined) return `${id}: max_bytes must be a whole number of at least 1024`;
  if (keep === undefined || keep > 1000) return `${id}: keep must be a whole number from 1 to 1000`;
  return { id, transport, format, url, envelope, maxBytes, keep };
}

function positive(text: string | null, fallback: number, min: number): number | undefined {
  if (text === null) return fallback;
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min ? n : undefined;
}

/** The URL as it may be shown: the password (a token) masked, the query in a stable order. */
export function sinkId(url: URL): string {
  const shown = new URL(url.toString());
  if (shown.password) shown.password = '***';
  shown.searchParams.sort();
  return shown.toString();
}

function maskText(text: string): string {
  return text.replace(/:[^/@:]*@/, ':***@');
}
