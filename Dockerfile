# Caliopen in a container. Build: docker build -t caliopen .
# Run (ports above 1024 inside, the usual ones outside; see the ENV below for why):
#   docker run -d --name caliopen --init -v caliopen-data:/data \
#     -p 25:2525 -p 587:5587 -p 465:5465 -p 8080:8080 -e CALIOPEN_HOSTNAME=mail.example.org caliopen
# The first start prints the one-time setup code: docker logs caliopen

# ---- build: node_modules, with sqlite3 compiled against this image's Node ----------------------
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# tsx is a runtime dependency (the sources are TypeScript, loaded as they are), so --omit=dev keeps it
RUN npm ci --omit=dev --no-audit --no-fund

# ---- runtime: no compiler, no npm cache, not root ---------------------------------------------
FROM node:20-bookworm-slim
# A non-root process cannot be given CAP_NET_BIND_SERVICE here, so it listens above 1024 and the
# host maps the real ports onto these (-p 25:2525 -p 587:5587 -p 465:5465).
ENV NODE_ENV=production \
    CALIOPEN_DATA_DIR=/data \
    CALIOPEN_HTTP_PORT=8080 \
    CALIOPEN_SMTP_PORT=2525 \
    CALIOPEN_SUBMISSION_PORT=5587 \
    CALIOPEN_SUBMISSIONS_PORT=5465
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY server ./server
COPY web ./web
COPY config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 2525 5587 5465 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.CALIOPEN_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["bin/caliopen", "start"]
