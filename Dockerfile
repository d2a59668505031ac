# One image for every Lockstep service and the CLI. The chart picks the role by the container's
# command: /usr/local/bin/{api,ticket-writer,ingest-webhook,sync-applier,poller}, and `lockstep`
# for the CLI (`lockstep admin migrate` runs the migrations Job).
#
#   docker build -t lockstep:dev .
#
# Stages: the web workbench's assets are built by Node (npm ci + esbuild, from web/package-lock.json);
# cargo-chef plans the dependency graph, cooks (builds) only the dependencies — a layer that
# stays cached until Cargo.lock or a manifest changes — then the workspace's release binaries are
# built (crates/web embeds the node stage's output, named by LOCKSTEP_WEB_DIST, so the Rust stage
# needs no Node) and copied onto distroless (glibc, no shell, no package manager) as the numeric
# non-root user.
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz on each service's admin port.

ARG RUST_VERSION=1.95
ARG CARGO_CHEF_VERSION=0.1.78
ARG NODE_VERSION=20.19

FROM node:${NODE_VERSION}-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM rust:${RUST_VERSION}-slim-bookworm AS chef
ARG CARGO_CHEF_VERSION
# The workspace's release profile keeps line tables for local profiling; the image does without
# them (set here so the cooked dependencies and the final build agree).
ENV CARGO_PROFILE_RELEASE_DEBUG=false
RUN cargo install --locked cargo-chef --version "${CARGO_CHEF_VERSION}"
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
COPY --from=web /web/dist /web-dist
RUN LOCKSTEP_WEB_DIST=/web-dist cargo build --release --locked \
      -p lockstep-cli -p lockstep-api -p lockstep-ticket-writer \
      -p lockstep-ingest-webhook -p lockstep-sync-applier -p lockstep-poller --bins \
 && mkdir -p /out \
 && cp target/release/lockstep target/release/api target/release/ticket-writer \
       target/release/ingest-webhook target/release/sync-applier target/release/poller /out/

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="lockstep" \
      org.opencontainers.image.description="Lockstep: security findings and ITSM tickets kept in step" \
      org.opencontainers.image.source="https://github.com/lockstep-sync/lockstep" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/ /usr/local/bin/
# 65532 is distroless' `nonroot`; numeric so Kubernetes can check runAsNonRoot.
USER 65532:65532
# ingest-webhook 8080; the api's HTTP JSON API and web workbench 8081; gRPC api 50051,
# ticket-writer 50052, poller 50053; admin (metrics, probes) 9090-9095.
EXPOSE 8080 8081 50051 50052 50053 9090 9091 9093 9094 9095
ENTRYPOINT ["/usr/local/bin/lockstep"]
CMD ["--help"]
