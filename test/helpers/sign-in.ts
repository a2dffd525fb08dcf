import { createServer } from 'node:net';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../src/dev/identity-provider';
import { startHarness, type Harness, type HarnessOptions } from './harness';
import type { TestDatabase } from './database';

export const SESSION_SECRET = 'test-session-secret-of-at-least-32-bytes!';
export const CSRF = { 'X-Requested-With': 'kloudless-gateway' };

/** A free loopback port: the redirect URI must be registered at the identity provider before the gateway listens. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface SignInSetup {
  idp: DevIdentityProvider;
  gateways: Harness[];
  close(): Promise<void>;
}

/** The development IdP and `instances` gateways on one database, each registered at the IdP. */
export async function startWithSignIn(
  options: { instances?: number; env?: Record<string, string>; harness?: HarnessOptions; redirectUri?: string } = {},
): Promise<SignInSetup> {
  const ports = await Promise.all(Array.from({ length: options.instances ?? 1 }, () => freePort()));
  const origins = ports.map((p) => `http://127.0.0.1:${p}`);
  const redirects = options.redirectUri ? [options.redirectUri] : origins.map((o) => `${o}/auth/callback`);
  const idp = await startDevIdentityProvider({
    env: 'test',
    redirectUris: redirects,
    postLogoutRedirectUris: redirects.map((r) => new URL('/app/', r).href),
  });
  const gateways: Harness[] = [];
  let database: TestDatabase | undefined;
  for (const [i, port] of ports.entries()) {
    const harness = await startHarness({
      ...options.harness,
      ...(database ? { database } : {}),
      env: {
        PORT: String(port),
        OIDC_ISSUER: idp.issuer,
        OIDC_CLIENT_ID: idp.clientId,
        OIDC_CLIENT_SECRET: idp.clientSecret,
        OIDC_REDIRECT_URI: options.redirectUri ?? `${origins[i]}/auth/callback`,
        SESSION_SECRET,
        ...options.env,
      },
    });
    database ??= harness.database;
    gateways.push(harness);
  }
  return {
    idp,
    gateways,
    async close() {
      for (const g of gateways.slice(1).reverse()) await g.close();
      await gateways[0]?.close();
      await idp.close();
    },
  };
}

/** What a browser would have seen from the gateway: every response, for the leak checks. */
export interface Seen {
  url: string;
  status: number;
  headers: [string, string][];
  body: string;
}

/** A cookie jar per origin, as a browser keeps one (enough for loopback http: no Domain, Path=/). */
export class Browser {
  readonly jars = new Map<string, Map<string, string>>();
  readonly seen: Seen[] = [];

  /**
   * @param callbackUri the redirect URI registered at the IdP; when it is not on the gateway's own origin (an
   * https URI in front of a test gateway on http), the browser is taken to the same path and query on the gateway.
   */
  constructor(
    readonly gatewayOrigin: string,
    readonly callbackUri = `${gatewayOrigin}/auth/callback`,
  ) {}

  cookie(origin: string, name: string): string | undefined {
    return this.jars.get(origin)?.get(name);
  }

  setCookie(origin: string, name: string, value: string): void {
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    jar.set(name, value);
    this.jars.set(origin, jar);
  }

  /** Sent with every request to the gateway (an X-Forwarded-For address, behind TRUST_PROXY). */
  gatewayHeaders: Record<string, string> = {};

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const { origin } = new URL(url);
    const jar = this.jars.get(origin);
    const headers = new Headers(init.headers);
    if (origin === this.gatewayOrigin) for (const [k, v] of Object.entries(this.gatewayHeaders)) headers.set(k, v);
    if (jar && jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = value === '' || attributes.some((a) => a.trim().toLowerCase() === 'max-age=0');
      const next = this.jars.get(origin) ?? new Map<string, string>();
      if (gone) next.delete(name);
      else next.set(name, value);
      this.jars.set(origin, next);
    }
    if (origin === this.gatewayOrigin) {
      const body = await res.clone().text();
      this.seen.push({ url, status: res.status, headers: [...res.headers], body });
    }
    return res;
  }

  /** Follows redirects by hand (so every hop's cookies are kept) until a non-redirect or a stop URL. */
  async follow(url: string, stopAt?: (url: string) => boolean): Promise<{ res: Response; url: string }> {
    let current = url;
    for (let hop = 0; hop < 15; hop++) {
      const res = await this.fetch(current);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { res, url: current };
      current = new URL(location, current).href;
      if (stopAt?.(current)) return { res, url: current };
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /**
   * The IdP's development login, as a person would do it: /auth/login, the IdP's login form (login, any
   * password), back to /auth/callback. Stops before the callback when `stopBeforeCallback`, returning its URL.
   */
  async signIn(
    login: string,
    options: { stopBeforeCallback?: boolean; returnTo?: string } = {},
  ): Promise<{ callbackUrl: string; res?: Response }> {
    const start = `${this.gatewayOrigin}/auth/login${options.returnTo ? `?return_to=${encodeURIComponent(options.returnTo)}` : ''}`;
    const atCallback = (u: string) => u.startsWith(this.callbackUri);
    let toCallback = await this.follow(start, atCallback);
    // The IdP remembers who signed in last (single sign-on): then it goes straight back, with no login page.
    if (!atCallback(toCallback.url)) {
      const html = await toCallback.res.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      if (!action)
        throw new Error(`no login form at ${toCallback.url}: ${toCallback.res.status} ${html.slice(0, 300)}`);
      const submit = new URL(action.replace(/&amp;/g, '&'), toCallback.url).href;
      const posted = await this.fetch(submit, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt: 'login', login, password: 'any' }).toString(),
      });
      toCallback = await this.follow(new URL(posted.headers.get('location') as string, submit).href, atCallback);
    }
    if (!atCallback(toCallback.url))
      throw new Error(`sign-in did not reach the callback: ${toCallback.url} ${toCallback.res.status}`);
    const callbackUrl = `${this.gatewayOrigin}/auth/callback${toCallback.url.slice(this.callbackUri.length)}`;
    if (options.stopBeforeCallback) return { callbackUrl };
    const res = await this.fetch(callbackUrl);
    return { callbackUrl, res };
  }
}
