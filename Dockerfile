# The Gated Lanes worker (see docker-compose.yml). Two stages: the first compiles src/ into dist/ (the CLI and
# worker, and the prebuilt workflow bundle) with the development dependencies; the image itself has production
# dependencies only and runs the compiled JavaScript: no TypeScript, no tsx, no bundling at start.
FROM node:20-bookworm-slim AS build

WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY scripts/build.mjs ./scripts/
COPY src/ ./src/
RUN node scripts/build.mjs

FROM node:20-bookworm-slim

WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

COPY bin/ ./bin/
# dist/ without src/: bin/lanes.js then runs dist/cli.js as built, with no staleness check.
COPY --from=build /app/dist/ ./dist/

ENV NODE_ENV=production

# LANES_HOME in docker-compose.yml: each worker container's own (evidence goes to the shared store, LANES_EVIDENCE_URL).
RUN mkdir -p /data/lanes && chown node:node /data/lanes

USER node

CMD ["node", "bin/lanes.js", "worker"]
