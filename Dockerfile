# syntax=docker/dockerfile:1.7
# One image for every Orchestra process. The Helm chart (deploy/helm/orchestra) picks the service by
# its command, e.g.  node --conditions=orchestra-dist gateway/dist/main.js  (compiled JavaScript, no
# tsx at run time: scripts/build-dist.mjs)
#
#   docker build --platform linux/amd64 -t <registry>/orchestra:<version> .
#   docker build --platform linux/amd64 --target browser-worker -t <registry>/orchestra-browser:<version> .
#
# The second is the image of browser worker groups: the same app plus Debian's chromium (the chart's
# workers.browserImage). The plain build (the last stage, `runtime`) has no browser.
#
# linux/amd64 only for now: the committed lockfile carries this platform's optional native binaries
# (esbuild, swc, argon2 prebuilds) and not the others'.
ARG NODE_VERSION=20.20

# --- dependencies -------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
# Manifests first: the install layer is reused until a dependency changes. Every workspace listed in
# the root package.json must be here, or npm rewrites the lockfile.
COPY package.json package-lock.json ./
COPY lib/package.json lib/
COPY proto/package.json proto/
COPY subgraphs/identity/package.json subgraphs/identity/
COPY subgraphs/catalog/package.json subgraphs/catalog/
COPY subgraphs/orchestration/package.json subgraphs/orchestration/
COPY subgraphs/audit/package.json subgraphs/audit/
COPY subgraphs/notifications/package.json subgraphs/notifications/
COPY gateway/package.json gateway/
COPY workers/package.json workers/
COPY web/package.json web/
COPY tests/package.json tests/
COPY bench/package.json bench/
# `npm ci` refuses this lockfile (it omits other platforms' optional binaries); `npm install` with it
# is reproducible. Dev dependencies stay (the build stages need them; the services run without tsx).
RUN --mount=type=cache,target=/root/.npm npm install --no-audit --no-fund

# --- the admin SPA ------------------------------------------------------------------------------
FROM deps AS web
COPY . .
RUN npm run build -w @orchestra/web

# --- compiled JavaScript of every runtime workspace (src/**/*.ts → dist/**/*.js) ------------------
FROM deps AS dist
COPY . .
RUN node scripts/build-dist.mjs

# --- runtime ------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# A fixed, non-root identity the chart's securityContext names (runAsUser/runAsGroup 10001).
RUN groupadd --system --gid 10001 orchestra \
 && useradd --system --uid 10001 --gid orchestra --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin orchestra
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0
# Dependencies (root and per-workspace node_modules, with the workspace links) then the sources.
# Everything stays root-owned and read-only to the service user; only /tmp is written.
COPY --from=deps /app ./
COPY . .
# The compiled services (each workspace's dist/ beside its src/) and the migration script.
COPY --from=dist /app/lib/dist lib/dist
COPY --from=dist /app/proto/dist proto/dist
COPY --from=dist /app/subgraphs/identity/dist subgraphs/identity/dist
COPY --from=dist /app/subgraphs/catalog/dist subgraphs/catalog/dist
COPY --from=dist /app/subgraphs/orchestration/dist subgraphs/orchestration/dist
COPY --from=dist /app/subgraphs/audit/dist subgraphs/audit/dist
COPY --from=dist /app/subgraphs/notifications/dist subgraphs/notifications/dist
COPY --from=dist /app/gateway/dist gateway/dist
COPY --from=dist /app/workers/dist workers/dist
COPY --from=dist /app/scripts/dist scripts/dist
# The built SPA; the gateway serves it on its own origin.
COPY --from=web /app/web/dist web/dist
ENV WEB_DIST_DIR=/app/web/dist
USER 10001:10001
# gateway 4000 (public) and 4001 (ops: /readyz in detail, /metrics); subgraphs 4101-4104 (HTTP) and
# 50051-50054 (gRPC); worker 4110 (HTTP) and 50061 (gRPC).
EXPOSE 4000 4001 4101 4102 4103 4104 4110 50051 50052 50053 50054 50061
CMD ["node", "--conditions=orchestra-dist", "gateway/dist/main.js"]

# --- browser worker: the runtime plus Debian's chromium (BROWSER_EXECUTABLE_PATH=/usr/bin/chromium) ---
FROM runtime AS browser-worker
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation fonts-noto-color-emoji \
 && rm -rf /var/lib/apt/lists/*
ENV BROWSER_EXECUTABLE_PATH=/usr/bin/chromium
USER 10001:10001
CMD ["node", "--conditions=orchestra-dist", "workers/dist/main.js"]

# --- the default image (a build without --target): the runtime, no browser -----------------------
FROM runtime
