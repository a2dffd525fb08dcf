# The gateway's production image. Docker cannot run on our build machines, so CI replays this file's
# build and start commands outside Docker (scripts/container-check.sh, `npm run container:check`), and
# test/ship/dockerfile.test.ts fails if the replay and this file stop running the same commands.
# Keep every RUN a plain shell command and the CMD an exec-form array: the replay runs exactly those.

# ---- build: install from the lockfile, compile, then drop the dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app

# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
# --ignore-scripts: the dependencies' install scripts (the Prisma CLI's downloads a native engine the gateway never
# uses) and our own postinstall, which needs prisma/: the client is generated below, once the schema is copied.
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY prisma ./prisma
# The Prisma client (src/generated/prisma, not committed), from prisma/schema.prisma; offline, no engine download.
RUN npm run db:generate
RUN npm run build
# --omit=optional too: the Prisma CLI and TypeScript are optional peers of @prisma/client, so --omit=dev
# alone keeps them (~250 MB). The one real optional dependency, pg-cloudflare, is for Cloudflare Workers.
RUN npm prune --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# ---- runtime: the compiled gateway, its production dependencies and its migrations; nothing else ----
FROM node:20-bookworm-slim AS runtime
WORKDIR /app
# WORKERS stays 1: one process per container, scaled by replicas. WORKERS=auto would count the node's CPUs, not the
# container's CPU limit; to give a container several cores set WORKERS to its limit (docs/operations.md, Container).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 METRICS_HOST=0.0.0.0 METRICS_PORT=9464

# Owned by root and read-only to the process: the gateway never writes to its own directory in
# production (the audit trail is in DATABASE_URL; secrets come from the environment or *_FILE).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Applied by `node dist/commands/db-migrate.js`, a step of its own before the gateway starts (MIGRATE_ON_START is off in
# production); src/db/migrate.ts reads dist/../prisma/migrations.
COPY --from=build /app/prisma/migrations ./prisma/migrations

EXPOSE 8080 9464
# Liveness, so /healthz: an unhealthy container gets restarted, and /readyz depends on the upstream, so a
# Kloudless outage would restart every container at once. /readyz is for the load balancer (issue 13, defect 8).
# slim has no curl: node itself asks.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# The image's unprivileged `node` user (uid 1000).
USER node
# node as PID 1 is fine here: the gateway handles SIGTERM itself (drains, then exits 0). The V8 flags are the gateway's
# own, the same as `npm start` (a test holds them equal): a young generation of 2 x 4 MB instead of V8's 2 x 16 MB
# (docs/performance.md, "Memory"). NODE_OPTIONS stays the operator's.
CMD ["node", "--enable-source-maps", "--max-semi-space-size=4", "dist/index.js"]
