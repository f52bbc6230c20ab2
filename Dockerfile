# syntax=docker/dockerfile:1
# One image runs both halves of nodeqos:
#   node /app/src/cli/main.ts controller ...   (the chart runs it as uid 65532, restricted Pod Security)
#   node /app/src/cli/main.ts agent ...        (the chart runs it as uid 0 with DAC_OVERRIDE and SYS_RESOURCE)
# TypeScript runs natively (Node 24 type stripping): no build step, the image holds src/ as it is in git.
# Pin by digest for releases: --build-arg NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:<digest>
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; none of them needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
# tc (iproute2) is what the agent drives for network QoS; nothing else is added to the base image.
RUN apt-get update \
  && apt-get install -y --no-install-recommends iproute2 \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src ./src
COPY crds ./crds
# Non-root by default; files stay root-owned and read-only to the process.
USER 65532:65532
EXPOSE 9090 9091
ENTRYPOINT ["node", "/app/src/cli/main.ts"]
CMD ["--help"]
