# One image for every role: produce, process [--engine ts|spark], serve, simulate, migrate.
# Build: docker build -t tickstream:local .   Run: docker run --rm tickstream:local --help

FROM node:20-slim AS build
WORKDIR /app
# better-sqlite3 builds from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY schemas ./schemas
COPY scripts ./scripts
COPY web ./web
# tsc to dist/, Vite to web/dist/. The Spark Connect .proto files are not compiled: they are loaded at run time, beside dist/spark/protocol.js.
RUN npm run build && cp -r src/spark/proto dist/spark/proto
RUN npm prune --omit=dev

FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/web/dist ./web/dist
COPY --from=build --chown=root:root /app/schemas ./schemas
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
ENV TICKSTREAM_DATA_DIR=/data
EXPOSE 8080 9464
# Larger semi-spaces: the roles allocate mostly short-lived objects at high rates (README, "A larger young generation").
ENTRYPOINT ["node", "--max-semi-space-size=64", "dist/cli/main.js"]
CMD ["--help"]
