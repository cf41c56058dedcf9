# Dockerfile - verdict in a container: built from this tree as a Debian
# package (make deb) in a build stage, installed into debian:bookworm-slim
# with only the libraries its Depends name, run as the user "verdict".
#   docker build -t verdict .
#   docker run --rm -v "$PWD/suites:/suites:ro" -e STAGING_URL verdict run /suites/staging.json
#   docker run -d -p 9799:9799 -v "$PWD/serve.json:/etc/verdict/serve.json:ro" verdict
# The default command is `serve /etc/verdict/serve.json` on every address
# of the container, port 9799 (mount your config there); the HEALTHCHECK
# asks its /healthz. README.md, "Install", tells more.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make pkg-config dpkg-dev libcurl4-openssl-dev libev-dev libssl-dev \
      libpq-dev libhiredis-dev libcjson-dev libcrypt-dev \
      libpcre2-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# no .git in the build context: the package's date and maintainer are given
ARG SOURCE_DATE_EPOCH=0
ARG DEB_MAINTAINER="verdict container build <verdict@users.noreply.github.com>"
RUN rm -f verdict_*.deb \
 && SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH DEB_MAINTAINER="$DEB_MAINTAINER" make deb \
 && mv verdict_*.deb /verdict.deb

FROM debian:bookworm-slim
COPY --from=build /verdict.deb /tmp/verdict.deb
# the package pulls in its runtime libraries (and ca-certificates for TLS)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      /tmp/verdict.deb ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/verdict.deb \
 && useradd --system --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin --gid verdict verdict \
 && install -d -m 0755 /etc/verdict
COPY packaging/docker/healthcheck.json /usr/share/verdict/healthcheck.json
USER verdict
WORKDIR /tmp
EXPOSE 9799
ENTRYPOINT ["verdict"]
CMD ["serve", "--listen", ":9799", "/etc/verdict/serve.json"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["verdict", "run", "-q", "/usr/share/verdict/healthcheck.json"]
