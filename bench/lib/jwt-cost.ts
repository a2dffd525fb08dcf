import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createTokenVerifier } from '../../src/auth/verifier';
import { loadConfig } from '../../src/config/load';

export interface JwtCost {
  algorithm: 'HS256' | 'RS256';
  /** The gateway's verifier: the key loaded once as a KeyObject, every claim check included (its token cache off). */
  gatewayPerS: number;
  /** The same token again, answered by the verified-token cache (issue 16). */
  cachedPerS?: number;
  /** jsonwebtoken.verify with the key as a string, as most code calls it (re-parsed on every call). */
  stringKeyPerS: number;
}

const ISSUER = 'https://idp.bench/';
const AUDIENCE = 'kloudless-gateway';

/** Verifications per second, in this process, one at a time: the CPU one token costs. */
export async function measureJwt(secondsEach = 1): Promise<JwtCost[]> {
  const secret = 'bench-hs256-secret-that-is-at-least-32-bytes-long';
  const rsa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cases = [
    { algorithm: 'HS256' as const, env: { JWT_SECRET: secret }, signWith: secret, verifyWith: secret },
    {
      algorithm: 'RS256' as const,
      env: { JWT_PUBLIC_KEY: rsa.publicKey },
      signWith: rsa.privateKey,
      verifyWith: rsa.publicKey,
    },
  ];
  const results: JwtCost[] = [];
  for (const c of cases) {
    const config = loadConfig({
      NODE_ENV: 'test',
      KLOUDLESS_DEVELOPER_KEY: 'unused',
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      ...c.env,
    });
    const verifier = createTokenVerifier(config.jwt, Date.now, { cacheSize: 0 });
    const cached = createTokenVerifier(config.jwt);
    const token = jwt.sign({ sub: 'bench', roles: ['viewer'] }, c.signWith, {
      algorithm: c.algorithm,
      expiresIn: 600,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const options: jwt.VerifyOptions = { algorithms: [c.algorithm], issuer: ISSUER, audience: AUDIENCE };
    results.push({
      algorithm: c.algorithm,
      gatewayPerS: await rate(secondsEach, () => verifier.verify(token)),
      cachedPerS: await rate(secondsEach, () => cached.verify(token)),
      stringKeyPerS: await rate(secondsEach, () => jwt.verify(token, c.verifyWith, options)),
    });
  }
  return results;
}

async function rate(seconds: number, once: () => unknown): Promise<number> {
  for (let i = 0; i < 500; i++) await once(); // warm-up
  let n = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 50; i++) await once();
    n += 50;
  }
  return n / ((performance.now() - started) / 1000);
}
