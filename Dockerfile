# syntax=docker/dockerfile:1.7
# One image for every Orchestra process. The Helm chart (deploy/helm/orchestra) picks the service by
# its command, e.g.  node node_modules/tsx/dist/cli.mjs gateway/src/main.ts
#
#   docker build --platform linux/amd64 -t <registry>/orchestra:<version> .
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
COPY gateway/package.json gateway/
COPY workers/package.json workers/
COPY web/package.json web/
COPY tests/package.json tests/
COPY bench/package.json bench/
# `npm ci` refuses this lockfile (it omits other platforms' optional binaries); `npm install` with it
# is reproducible. Dev dependencies stay: tsx, which runs the services, is one.
RUN --mount=type=cache,target=/root/.npm npm install --no-audit --no-fund

# --- the admin SPA ------------------------------------------------------------------------------
FROM deps AS web
COPY . .
RUN npm run build -w @orchestra/web

# --- runtime ------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# A fixed, non-root identity the chart's securityContext names (runAsUser/runAsGroup 10001).
RUN groupadd --system --gid 10001 orchestra \
 && useradd --system --uid 10001 --gid orchestra --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin orchestra
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0
# Dependencies (root and per-workspace node_modules, with the workspace links) then the sources.
# Everything stays root-owned and read-only to the service user; only /tmp (tsx's cache) is written.
COPY --from=deps /app ./
COPY . .
# The built SPA; the gateway serves it on its own origin.
COPY --from=web /app/web/dist web/dist
ENV WEB_DIST_DIR=/app/web/dist
USER 10001:10001
# gateway 4000 (public) and 4001 (ops: /readyz in detail, /metrics); subgraphs 4101-4104 (HTTP) and
# 50051-50054 (gRPC); worker 4110 (HTTP) and 50061 (gRPC).
EXPOSE 4000 4001 4101 4102 4103 4104 4110 50051 50052 50053 50054 50061
CMD ["node", "node_modules/tsx/dist/cli.mjs", "gateway/src/main.ts"]
