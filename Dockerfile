# The Ferry companion (docs/deploy-companion.md). Node 24 runs companion/main.ts as it is: it
# strips the TypeScript types itself, so there is no build step and no dev dependency.
# scripts/check-container.sh reads this file and runs its install, start and health-check
# commands outside Docker (CI has no Docker engine), as the user created here.

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies at the lockfile's versions. Not `npm ci`: it refuses this lockfile,
# which lacks entries for workerd's optional darwin/windows builds (a dev dependency).
RUN npm install --omit=dev --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
# A fixed uid/gid, so a host folder mounted at /var/lib/ferry can be given to it (chown 10001).
RUN groupadd --system --gid 10001 ferry && useradd --system --uid 10001 --gid ferry --home-dir /var/lib/ferry --no-create-home --shell /usr/sbin/nologin ferry && mkdir -p /etc/ferry /var/lib/ferry && chown ferry:ferry /var/lib/ferry
WORKDIR /app
# The code stays root's: the companion can read it, not change it.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY companion ./companion
COPY shared ./shared
USER ferry
# /etc/ferry: ferry.yaml (read-only is fine; the companion reloads it when it changes).
# /var/lib/ferry: the quota store and the audit log (SQLite), see deploy/ferry.yaml.
VOLUME ["/etc/ferry", "/var/lib/ferry"]
EXPOSE 8080
# slim has no curl: Node's fetch asks the liveness route. Port 8080 = server.port in ferry.yaml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "companion/main.ts", "--config", "/etc/ferry/ferry.yaml"]
