import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigError, loadConfig } from '../../src/config/load';

const DIR = join(__dirname, '..', '..', 'deploy', 'kubernetes');

/** Each kind the manifests may hold, with its model from the Kubernetes API's OpenAPI schemas. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };

const manifests: Manifest[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as Manifest));
const one = <T>(kind: string) => manifests.find((m) => m.kind === kind) as unknown as T;

function validate(m: Manifest): void {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Model) throw new Error(`no schema for ${m.apiVersion} ${m.kind}`);
  new Model(m as never).validate();
}

test('when the manifests are read, then each validates against the Kubernetes schema of its kind', () => {
  expect(manifests.map((m) => m.kind).sort()).toEqual([
    'ConfigMap',
    'Deployment',
    'NetworkPolicy',
    'PodDisruptionBudget',
    'Service',
    'ServiceAccount',
  ]);
  for (const m of manifests) expect(() => validate(m)).not.toThrow();
});

test('when a manifest is wrong, then the schema refuses it (the check is no rubber stamp)', () => {
  const deployment = one<Manifest>('Deployment');
  expect(() => validate({ ...deployment, spec: { ...(deployment.spec as object), replicas: 'three' } })).toThrow();
  expect(() => validate({ ...deployment, spec: { template: {} } })).toThrow(/selector/);
});

interface Container {
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  volumeMounts: { name: string; mountPath: string }[];
  envFrom: { configMapRef: { name: string } }[];
}
interface DeploymentSpec {
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string> };
    spec: { containers: Container[]; volumes: { name: string; secret?: { secretName: string } }[] };
  };
}

test('when the Deployment runs, then /readyz is its readiness, /healthz its liveness, secrets are files, and resources are set', () => {
  const spec = one<{ spec: DeploymentSpec }>('Deployment').spec;
  const [gateway] = spec.template.spec.containers;
  expect(gateway!.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  expect(gateway!.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
  expect(gateway!.resources.requests).toEqual({ cpu: '500m', memory: '320Mi' });
  expect(gateway!.resources.limits.memory).toBe('512Mi');
  const secretVolume = spec.template.spec.volumes.find((v) => v.secret)!;
  const mount = gateway!.volumeMounts.find((v) => v.name === secretVolume.name)!;
  const data = one<{ data: Record<string, string> }>('ConfigMap').data;
  // Every secret the gateway reads is a file in the mounted Secret; none is an environment value.
  const files = Object.entries(data).filter(([k]) => k.endsWith('_FILE'));
  expect(files.length).toBeGreaterThanOrEqual(6);
  for (const [, path] of files) expect(path.startsWith(`${mount.mountPath}/`)).toBe(true);
  for (const secret of ['KLOUDLESS_DEVELOPER_KEY', 'AUDIT_HMAC_KEY', 'JWT_SECRET', 'SESSION_SECRET'])
    expect(data[secret]).toBeUndefined();
  expect(gateway!.envFrom[0]!.configMapRef.name).toBe(one<Manifest>('ConfigMap').metadata.name);
});

test("when the Service, the PodDisruptionBudget and the NetworkPolicy select pods, then they select the Deployment's", () => {
  const spec = one<{ spec: DeploymentSpec }>('Deployment').spec;
  const labels = spec.template.metadata.labels;
  expect(spec.selector.matchLabels).toEqual(labels);
  expect(one<{ spec: { selector: Record<string, string> } }>('Service').spec.selector).toEqual(labels);
  expect(one<{ spec: { selector: { matchLabels: object } } }>('PodDisruptionBudget').spec.selector.matchLabels).toEqual(
    labels,
  );
  expect(one<{ spec: { podSelector: { matchLabels: object } } }>('NetworkPolicy').spec.podSelector.matchLabels).toEqual(
    labels,
  );
  const ports = spec.template.spec.containers[0]!.ports.map((p) => p.name);
  const service = one<{ spec: { ports: { targetPort: string }[] } }>('Service').spec.ports;
  for (const p of service) expect(ports).toContain(p.targetPort);
});

/** The ConfigMap's placeholders for this deployment's own hosts: the gateway refuses to start with them unedited. */
const DEPLOYMENT_OWN = ['JWT_JWKS_URL', 'JWT_ISSUER', 'AUDIT_LOG_ORIGIN', 'OIDC_ISSUER', 'OIDC_REDIRECT_URI'];

test('when the ConfigMap is loaded as the gateway loads its environment, then unedited it is refused naming each placeholder, and edited it is a production configuration', () => {
  const data = one<{ data: Record<string, string> }>('ConfigMap').data;
  const withoutFiles = Object.fromEntries(Object.entries(data).filter(([k]) => !k.endsWith('_FILE')));
  const files = Object.fromEntries(
    Object.entries(data)
      .filter(([k]) => k.endsWith('_FILE'))
      .map(([k]) => [k.slice(0, -'_FILE'.length), 'x'.repeat(40)]),
  );
  // The secret files stand in as values of the right shape.
  const load = (edits: Record<string, string>) =>
    loadConfig({
      ...withoutFiles,
      ...files,
      DATABASE_URL: 'postgres://gateway@db.internal:5432/gateway',
      AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ...edits,
    });
  let refused: unknown;
  try {
    load({});
  } catch (err) {
    refused = err;
  }
  expect(refused).toBeInstanceOf(ConfigError);
  for (const name of DEPLOYMENT_OWN) expect(String((refused as ConfigError).problems)).toContain(name);
  const config = load({
    JWT_JWKS_URL: 'https://sso.corp.internal/.well-known/jwks.json',
    JWT_ISSUER: 'https://sso.corp.internal/',
    AUDIT_LOG_ORIGIN: 'gateway.corp.internal/audit',
    OIDC_ISSUER: 'https://sso.corp.internal/',
    OIDC_REDIRECT_URI: 'https://gateway.corp.internal/auth/callback',
  });
  expect(config.env).toBe('production');
  expect(config.workers).toBe(1);
});
