import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultSlot, parseFault, writeFault } from './faults';
import {
  ApiError,
  badRequest,
  checkDeveloperKey,
  notFound,
  parseJsonBody,
  readBody,
  sendError,
  sendJson,
  splitTarget,
  type ParsedBody,
} from './http';
import { resolveRoute, type RouteResult } from './routes';
import { SimulatorStore } from './store';
import type { RecordedRequest, Simulator, SimulatorOptions } from './types';

export type { Fault, FaultMatch, RecordedRequest, Simulator, SimulatorOptions } from './types';

const CONTROL_PREFIX = '/_simulator/';
const NO_CONTENT: RouteResult = { status: 204 };

interface Incoming {
  method: string;
  path: string;
  query: Record<string, string>;
  body: ParsedBody;
  requestId: string;
}

/** A stand-in for the Kloudless Management API (`/v1`), for tests and local runs only. */
export function createSimulator(options: SimulatorOptions): Simulator {
  const store = new SimulatorStore({ seed: options.seed ?? false });
  const requests: RecordedRequest[] = [];
  const faults = new FaultSlot();
  /** Cancels pending delay faults, so close() never waits on one. */
  const pendingDelays = new Set<() => void>();
  let baseUrl: string | undefined;

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    handle(req, res, requestId).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendError(res, new ApiError('internal_error', err instanceof Error ? err.message : String(err)), requestId);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const receivedAt = new Date();
    const method = req.method ?? 'GET';
    const { path, query } = splitTarget(req.url);
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch {
      return; // the client went away while sending
    }
    const incoming: Incoming = { method, path, query, body: parseJsonBody(rawBody), requestId };
    if (options.controlApi && path.startsWith(CONTROL_PREFIX)) return respond(res, incoming, () => control(incoming));

    const body = incoming.body.ok ? incoming.body.value : undefined;
    requests.push({ method, path, query, headers: { ...req.headers }, body, rawBody, receivedAt });
    const fault = faults.take(method, path);
    if (fault && fault.kind !== 'delay') return writeFault(fault, res, incoming.requestId);
    if (fault?.kind === 'delay' && !(await delay(fault.ms))) return;
    respond(res, incoming, () => answer(req.headers.authorization, incoming));
  }

  function respond(res: ServerResponse, incoming: Incoming, produce: () => RouteResult): void {
    try {
      const result = produce();
      sendJson(res, result.status, result.body);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      sendError(res, err, incoming.requestId);
    }
  }

  /** Authenticate, route, parse, act: the order in which the API refuses a request. */
  function answer(authorization: string | undefined, { method, path, query, body }: Incoming): RouteResult {
    const denied = checkDeveloperKey(authorization, options.developerKey);
    if (denied) throw denied;
    const route = resolveRoute(method, path);
    if (!route) throw notFound('Not found.');
    if ('allowed' in route)
      throw new ApiError('method_not_allowed', `Method "${method}" not allowed.`, { allow: route.allowed.join(', ') });
    if (!body.ok) throw badRequest('JSON parse error: the request body is not valid JSON.');
    return route.handler({ store, params: route.params, query, body: body.value });
  }

  function control({ method, path, body }: Incoming): RouteResult {
    const actions: Record<string, () => RouteResult> = {
      'GET requests': () => ({ status: 200, body: requests }),
      'DELETE requests': () => {
        clearRequests();
        return NO_CONTENT;
      },
      'POST reset': () => {
        reset();
        return NO_CONTENT;
      },
      'GET fault': () => ({ status: 200, body: faults.current }),
      'PUT fault': () => {
        setFaultFrom(body);
        return NO_CONTENT;
      },
    };
    const action = `${method} ${path.slice(CONTROL_PREFIX.length).replace(/\/$/, '')}`;
    const run = Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!run) throw notFound(`No simulator control ${action}.`);
    return run();
  }

  function setFaultFrom(body: ParsedBody): void {
    if (!body.ok) throw badRequest('The fault is not valid JSON.');
    try {
      faults.set(parseFault(body.value));
    } catch (err) {
      throw badRequest((err as Error).message);
    }
  }

  /** Resolves true when the delay ran out, false when close() cut it short. */
  function delay(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = () => {
        clearTimeout(timer);
        pendingDelays.delete(cancel);
        resolve(false);
      };
      const timer = setTimeout(() => {
        pendingDelays.delete(cancel);
        resolve(true);
      }, ms);
      pendingDelays.add(cancel);
    });
  }

  function clearRequests(): void {
    requests.length = 0;
  }

  function reset(): void {
    store.reset();
    clearRequests();
    faults.set(null);
  }

  return {
    listen(port = 0, host = '127.0.0.1') {
      return new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          baseUrl = `http://${urlHost(address.address)}:${address.port}/v1`;
          resolve(baseUrl);
        });
      });
    },
    async close() {
      for (const cancel of [...pendingDelays]) cancel();
      if (!server.listening) return;
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
    get url() {
      if (baseUrl === undefined) throw new Error('the simulator is not listening; call listen() first');
      return baseUrl;
    },
    requests,
    clearRequests,
    reset,
    setFault: (fault) => faults.set(fault),
    store,
  };
}

function urlHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}
