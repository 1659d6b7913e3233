# The Gated Lanes worker (see docker-compose.yml). bin/lanes.js runs the TypeScript sources through tsx, a
# production dependency, so there is no build step.
FROM node:20-bookworm-slim

WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

COPY bin/ ./bin/
COPY src/ ./src/
COPY tsconfig.json ./

ENV NODE_ENV=production

# LANES_HOME in docker-compose.yml; made here so a fresh named volume mounted on it is writable by `node`.
RUN mkdir -p /data/lanes && chown node:node /data/lanes

USER node

CMD ["node", "bin/lanes.js", "worker"]
