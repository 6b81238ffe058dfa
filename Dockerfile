# syntax=docker/dockerfile:1
# specserve image: multi-stage, non-root, read-only-root-filesystem friendly.
#   docker build -t specserve .                          # wasm backend (what docs/performance.md measured)
#   docker build --build-arg TFJS_NODE=true -t specserve .  # + native TensorFlow (downloads libtensorflow)
# Size budget (linux/amd64, uncompressed): 450 MB with the default build: node:20-bookworm-slim
# (about 200 MB) + pruned production node_modules (145 MB today) + models (12 MB) + dist.
# CI fails a build over it (.github/workflows/ci.yml). TFJS_NODE=true adds libtensorflow.
ARG NODE_VERSION=20

# Build stage: compile TypeScript with the dev dependencies.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc* ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY handlers ./handlers
COPY client ./client
RUN npx tsc -p tsconfig.build.json

# Production dependencies, pruned to this platform: onnxruntime-node ships every platform's
# binaries and sharp's optional packages may include others; only linux/<arch>'s stay, and
# source maps and type declarations go (deploy/docker/prune-node-modules.mjs).
FROM node:${NODE_VERSION}-bookworm-slim AS deps
ARG TARGETARCH
ARG TFJS_NODE=false
WORKDIR /app
COPY package.json package-lock.json .npmrc* ./
# --ignore-scripts: the package's own `prepare` builds with tsc, a dev dependency (the build stage
# did that); tfjs-node's install script (it downloads libtensorflow) is run by name when wanted.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund --ignore-scripts && \
    if [ "$TFJS_NODE" = true ]; then npm rebuild @tensorflow/tfjs-node; fi
COPY deploy/docker/prune-node-modules.mjs /tmp/
RUN node /tmp/prune-node-modules.mjs node_modules "${TARGETARCH:-$(node -p process.arch)}" \
      $( [ "$TFJS_NODE" = true ] && echo --keep-tfjs-node )

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# glibc gives each thread that allocates its own malloc arena (up to 8 per core) and keeps what
# they free: with the inference workers, libvips and ONNX Runtime threads, two arenas cut peak RSS
# under photo load by ~60 MB (docs/performance.md). A fixed mmap threshold (1 MB) keeps glibc
# from raising it after each large free, so ONNX Runtime's per-run buffers and decoded photos go
# back to the system when freed instead of staying in the heap: ~50 MB less peak RSS with every
# shipped model (docs/performance.md). npm start sets the same.
ENV NODE_ENV=production PORT=5000 HOST=0.0.0.0 MODEL_STORE=/app/model-store MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=1048576
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY api ./api
COPY web ./web
COPY model-store ./model-store
# The image's `node` user (uid 1000); nothing under /app is writable by it. The server writes
# only to a model store that fetches config.yaml `source:` URLs (mount a volume there) and /tmp.
USER node
# 5000: HTTP (PORT). 8500: gRPC (GRPC_PORT).
EXPOSE 5000 8500
# The port opens early; readiness answers 503 until the models are loaded and during shutdown.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:'+(process.env.PORT||5000)+'/v2/health/ready',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server.js"]
