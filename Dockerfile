# syntax=docker/dockerfile:1
# pipeguard's release image: the binary built from this tree with the locked
# dependency graph, on a distroless base with no shell or package manager,
# running as an unprivileged numeric user.
#
#   docker build -t pipeguard .
#   docker run --rm -v "$PWD:/work:ro" pipeguard secrets /work
#
# Both bases are pinned by digest so a rebuild fetches the bytes that were
# reviewed; SECURITY.md says where the digests come from and how to refresh
# them (`crane digest IMAGE:TAG`). The builder is Debian 12 like the runtime,
# so the glibc the binary links against is the one it runs on.

FROM rust:1.95-slim-bookworm@sha256:d7482085ff5b415f84dba5647ae71606650bdef00db7aeb69f4b3d170c3e4082 AS build
WORKDIR /src
# rust-toolchain.toml pins 1.95.0 with rustfmt and clippy; a release build
# needs neither, so use the image's own 1.95 toolchain as it is.
ENV RUSTUP_TOOLCHAIN=1.95.0 \
    CARGO_TERM_COLOR=never
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
RUN cargo build --release --locked -p pipeguard \
 && install -D -m 0755 target/release/pipeguard /out/pipeguard

FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
COPY --from=build /out/pipeguard /usr/local/bin/pipeguard
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/pipeguard"]
CMD ["--help"]
