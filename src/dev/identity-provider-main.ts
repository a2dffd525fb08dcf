/**
 * `npm run dev:idp`: the development identity provider alone, for deploy/compose.yaml (the local default runs the
 * same provider inside the gateway's process). Its login takes any password: never in production. Settings:
 *   DEV_IDP_ISSUER                  the issuer URL as browsers and gateways reach it (required)
 *   DEV_IDP_HOST, DEV_IDP_PORT      where it listens (default 127.0.0.1:7390)
 *   DEV_IDP_CLIENT_SECRET_FILE      the gateways' client secret (OIDC_CLIENT_SECRET_FILE on their side)
 *   DEV_IDP_REDIRECT_URIS           the gateways' /auth/callback URLs, comma list
 *   DEV_IDP_POST_LOGOUT_URIS        where sign-out may return to, comma list
 */
import { readFileSync } from 'node:fs';
import { startDevIdentityProvider } from './identity-provider';

const env = process.env;
const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const fail = (message: string): never => {
  process.stderr.write(`dev idp: ${message}\n`);
  process.exit(2);
};

async function main(): Promise<void> {
  const issuer = env.DEV_IDP_ISSUER ?? fail('DEV_IDP_ISSUER is required (the URL browsers and gateways reach)');
  const secretFile = env.DEV_IDP_CLIENT_SECRET_FILE ?? fail('DEV_IDP_CLIENT_SECRET_FILE is required');
  const idp = await startDevIdentityProvider({
    env: env.NODE_ENV ?? 'development',
    issuer,
    host: env.DEV_IDP_HOST ?? '127.0.0.1',
    port: Number(env.DEV_IDP_PORT ?? 7390),
    clientSecret: readFileSync(secretFile, 'utf8').trim(),
    redirectUris: list(env.DEV_IDP_REDIRECT_URIS),
    postLogoutRedirectUris: list(env.DEV_IDP_POST_LOGOUT_URIS),
  });
  process.stdout.write(
    `==> DEVELOPMENT IDENTITY PROVIDER (any password signs in; never production): ${idp.issuer}, client ${idp.clientId}\n`,
  );
  const stop = () => void idp.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
