import { randomBytes } from 'node:crypto';
import type { ApiKey, Application, Page, Webhook } from './types';

export type ApplicationSettings = Pick<
  Application,
  'description' | 'logo_url' | 'implicit_grant_enabled' | 'recent_enabled' | 'events_enabled'
>;
export type ApplicationInput = { name: string; source?: string } & Partial<ApplicationSettings>;
export type ApplicationPatch = Partial<Pick<Application, 'name' | 'active'> & ApplicationSettings>;

export interface StoreOptions {
  seed?: boolean;
  /** Microseconds since the epoch. */
  clock?: () => number;
}

interface AppRecord {
  app: Application;
  apiKeys: Map<string, ApiKey>;
  webhooks: Map<string, Webhook>;
}

const SETTINGS_DEFAULTS: ApplicationSettings = {
  description: '',
  logo_url: '',
  implicit_grant_enabled: false,
  recent_enabled: false,
  events_enabled: false,
};
const FIRST_WEBHOOK_ID = 100;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const systemClock = () => Math.floor((performance.timeOrigin + performance.now()) * 1000);

/** `2015-06-01T03:57:16.770685Z`: the reference's timestamps carry microseconds. */
export function formatTimestamp(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

/** 22 characters of [A-Za-z0-9_-], like `wSPk9y5D7p5o87k0ACGKxR`. */
export function newApplicationId(): string {
  return randomBytes(16).toString('base64url');
}

/** 30 characters of [A-Za-z0-9], like `80OdF5hXzkNqEs9DHRkiA1EXz1pbF4`. */
export function newApiKey(): string {
  let key = '';
  while (key.length < 30) {
    for (const byte of randomBytes(40)) {
      // Rejecting bytes >= 248 (4 × 62) keeps every character equally likely.
      if (byte < 248 && key.length < 30) key += ALPHANUMERIC[byte % 62];
    }
  }
  return key;
}

export function paginate<T>(items: readonly T[], page: number, pageSize: number): Page<T> {
  // A page past the end answers an empty page rather than Django's "Invalid page" 404, so a
  // client walking pages can stop on count 0 without telling "no such page" from "no such app".
  const objects = items.slice((page - 1) * pageSize, page * pageSize);
  return { total: items.length, count: objects.length, page, objects };
}

/** The Management API's state, in memory. Every read returns copies. */
export class SimulatorStore {
  private readonly apps = new Map<string, AppRecord>();
  /** API keys and webhook ids are unique across all applications (reference). */
  private readonly keyOwners = new Map<string, string>();
  private nextWebhookId = FIRST_WEBHOOK_ID;
  private lastMicros = 0;
  private readonly clock: () => number;

  constructor(private readonly options: StoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.reset();
  }

  reset(): void {
    this.apps.clear();
    this.keyOwners.clear();
    this.nextWebhookId = FIRST_WEBHOOK_ID;
    if (this.options.seed) this.addSeed();
  }

  listApplications(active?: boolean): Application[] {
    return [...this.apps.values()]
      .filter((r) => active === undefined || r.app.active === active)
      .map((r) => ({ ...r.app }));
  }

  getApplication(id: string): Application | undefined {
    const record = this.apps.get(id);
    return record && { ...record.app };
  }

  /** Settings given in the input win over the source's; the source's API keys are copied as new keys. */
  createApplication(input: ApplicationInput): Application {
    const source = input.source === undefined ? undefined : this.apps.get(input.source);
    if (input.source !== undefined && !source) throw new RangeError(`no application ${input.source}`);
    const settings = { ...SETTINGS_DEFAULTS, ...(source && pickSettings(source.app)), ...pickSettings(input) };
    let id = newApplicationId();
    while (this.apps.has(id)) id = newApplicationId();
    const now = this.now();
    const record = this.insert({ id, name: input.name, ...settings, active: true, created: now, modified: now });
    for (let i = 0; i < (source?.apiKeys.size ?? 0); i++) this.addApiKey(record);
    return { ...record.app };
  }

  updateApplication(id: string, patch: ApplicationPatch): Application | undefined {
    const record = this.apps.get(id);
    if (!record) return undefined;
    record.app = { ...record.app, ...definedOnly(patch), modified: this.now() };
    return { ...record.app };
  }

  deleteApplication(id: string): boolean {
    const record = this.apps.get(id);
    if (!record) return false;
    for (const key of record.apiKeys.keys()) this.keyOwners.delete(key);
    return this.apps.delete(id);
  }

  listApiKeys(appId: string): ApiKey[] | undefined {
    const record = this.apps.get(appId);
    return record && [...record.apiKeys.values()].map((k) => ({ ...k }));
  }

  createApiKey(appId: string): ApiKey | undefined {
    const record = this.apps.get(appId);
    return record && { ...this.addApiKey(record) };
  }

  deleteApiKey(appId: string, key: string): boolean {
    const deleted = this.apps.get(appId)?.apiKeys.delete(key) ?? false;
    if (deleted) this.keyOwners.delete(key);
    return deleted;
  }

  listWebhooks(appId: string): Webhook[] | undefined {
    const record = this.apps.get(appId);
    return record && [...record.webhooks.values()].map((w) => ({ ...w }));
  }

  createWebhook(appId: string, url: string): Webhook | undefined {
    const record = this.apps.get(appId);
    if (!record) return undefined;
    const now = this.now();
    const webhook = { id: String(this.nextWebhookId++), url, created: now, modified: now };
    record.webhooks.set(webhook.id, webhook);
    return { ...webhook };
  }

  getWebhook(appId: string, webhookId: string): Webhook | undefined {
    const webhook = this.apps.get(appId)?.webhooks.get(webhookId);
    return webhook && { ...webhook };
  }

  deleteWebhook(appId: string, webhookId: string): boolean {
    return this.apps.get(appId)?.webhooks.delete(webhookId) ?? false;
  }

  private insert(app: Application): AppRecord {
    const record: AppRecord = { app, apiKeys: new Map(), webhooks: new Map() };
    this.apps.set(app.id, record);
    return record;
  }

  private addApiKey(record: AppRecord, key = newApiKey(), created = this.now()): ApiKey {
    while (this.keyOwners.has(key)) key = newApiKey();
    const apiKey = { key, created, modified: created };
    record.apiKeys.set(key, apiKey);
    this.keyOwners.set(key, record.app.id);
    return apiKey;
  }

  /** Strictly increasing, so a PATCH right after a create still moves `modified`. */
  private now(): string {
    this.lastMicros = Math.max(this.clock(), this.lastMicros + 1);
    return formatTimestamp(this.lastMicros);
  }

  /** The examples from the reference's List Applications and List API Keys responses. */
  private addSeed(): void {
    const base = { ...SETTINGS_DEFAULTS, description: 'A test application.', active: true };
    const first = this.insert({
      ...base,
      id: 'wSPk9y5D7p5o87k0ACGKxR',
      name: 'Test App 1',
      created: '2014-03-18T03:57:16.770685Z',
      modified: '2014-06-26T04:13:45.439534Z',
    });
    this.insert({
      ...base,
      id: 'osM_FF6fIWXmCLDfWVRX',
      name: 'Test App 2',
      created: '2014-03-26T05:51:45.725705Z',
      modified: '2015-01-27T08:52:12.356049Z',
    });
    this.insert({
      ...base,
      id: 'koiR71rFLPTdld9N-YUR',
      name: 'Demo App',
      description: 'A demo app.',
      logo_url: 'https://s3-us-west-2.amazonaws.com/static-assets.kloudless.com/webapp/sources/gdrive.png',
      created: '2014-06-25T05:54:05.801428Z',
      modified: '2015-05-01T06:01:39.905658Z',
    });
    this.addApiKey(first, '80OdF5hXzkNqEs9DHRkiA1EXz1pbF4', '2014-03-18T03:57:16.770685Z');
  }
}

function pickSettings(from: Partial<ApplicationSettings>): Partial<ApplicationSettings> {
  const { description, logo_url, implicit_grant_enabled, recent_enabled, events_enabled } = from;
  return definedOnly({ description, logo_url, implicit_grant_enabled, recent_enabled, events_enabled });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
