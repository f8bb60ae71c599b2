# syntax=docker/dockerfile:1
# The Cetus daemon's image: `docker build -t registry.example.com/platform/cetus:0.1.0 .`
#
# Two stages: the binary is built on Debian 12 with the packages scripts/setup names for
# git2 (a C compiler, pkg-config, the OpenSSL headers); it runs on distroless's cc image for
# Debian 12 (glibc, libgcc, OpenSSL, CA certificates; no shell, no package manager) as the
# non-root user 65532, which manifests/base/deployment.yaml also names. zlib is linked in
# statically, as the runtime image has none; libgit2 and libssh2 are always built in.
# Checked by hadolint (tests/install.rs, `dockerfile_passes_hadolint`).

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS builder
# The packages are left unpinned: bookworm's security updates are wanted, and the builder's
# base image is pinned by its tag.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV LIBZ_SYS_STATIC=1
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin cetus \
    && install -D -m 0755 target/release/cetus /out/cetus

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/cetus /usr/local/bin/cetus
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/cetus"]
CMD ["serve", "--config", "/etc/cetus/cetusd.yaml"]
