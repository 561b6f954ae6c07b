# The engine, for docker-compose.yml. The services it talks to come from the environment:
# KAFKA_BROKERS, DATABASE_URL, REDIS_URL (unset = the embedded in-process bus, PGlite and snapshot file).

# Dependencies are installed on the full image, which has the tools a native module might need to build.
FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/.data/embedded
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN mkdir -p /app/.data/embedded && chown -R node:node /app/.data
USER node
EXPOSE 8000
# /healthz answers as soon as the HTTP server listens; /readyz is for "all parts ready".
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["npm", "start"]
