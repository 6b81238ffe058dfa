# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY handlers ./handlers
RUN npx tsc -p tsconfig.build.json

# Runtime stage: production dependencies only. With internet access during the build, the
# optional @tensorflow/tfjs-node installs (native TensorFlow); where it cannot, the server runs
# on the wasm backend, which is always installed.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=5000 HOST=0.0.0.0 MODEL_STORE=/app/model-store
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY api ./api
COPY model-store ./model-store
USER node
EXPOSE 5000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:'+(process.env.PORT||5000)+'/v2/health/ready',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
CMD ["node", "dist/src/server.js"]
