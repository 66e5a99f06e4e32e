# sqlite-maintd container image (Debian 12). Used as a Kubernetes sidecar or CronJob:
# see docs/kubernetes/README.md.
#
#   docker build -t sqlite-maintd:0.1.0 .
#   docker run --rm -v /srv/app:/data sqlite-maintd:0.1.0 status /data/app.db
#
# Stage 1 builds with the same script and commands as a developer machine
# (scripts/setup-deps.sh, then CMake); stage 2 holds only the binary, the shared libraries
# it links, and a non-root user.

ARG DEBIAN_IMAGE=debian:12-slim

# ---------------------------------------------------------------------------- build
FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
# Dependencies first: this layer is cached until the script changes.
COPY scripts/setup-deps.sh scripts/setup-deps.sh
RUN ./scripts/setup-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DMAINTD_BUILD_TESTS=OFF \
        -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc \
 && cmake --build /build -j"$(nproc)" --target sqlite-maintd \
 && DESTDIR=/out cmake --install /build --strip \
 && /out/usr/bin/sqlite-maintd --version

# -------------------------------------------------------------------------- runtime
FROM ${DEBIAN_IMAGE}
# Exactly the libraries `ldd sqlite-maintd` lists beyond libc/libstdc++/libgcc (which the
# base image has): the Debian 12 runtime packages of the -dev packages the build used.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libsqlite3-0 libyaml-cpp0.7 libspdlog1.10 libfmt9 libsystemd0 \
 && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can check it and a pod's
# runAsUser/fsGroup can match it (the app container must write the same files).
RUN groupadd --system --gid 10001 sqlite-maintd \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin sqlite-maintd \
 && install -d -o 10001 -g 10001 -m 0750 /data

COPY --from=build /out/usr/bin/sqlite-maintd /usr/bin/sqlite-maintd
COPY --from=build /out/etc/sqlite-maintd/config.yaml.example /etc/sqlite-maintd/config.yaml.example
COPY --from=build /out/usr/share/doc/sqlite-maintd /usr/share/doc/sqlite-maintd

USER 10001:10001
WORKDIR /data
# Prometheus /metrics, /healthz, /readyz. The daemon listens on loopback unless the config
# says otherwise (http.listen: "0.0.0.0:9187" in a container: see docs/kubernetes).
EXPOSE 9187
# The daemon is PID 1 here and handles SIGTERM itself: graceful shutdown within
# shutdown.deadline (+1 s). Give the container more than that to stop
# (docker stop -t / terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
# Config: mount it at /etc/sqlite-maintd/config.yaml (read when present), or pass
# --config PATH, or set SQLITE_MAINTD_CONFIG.
ENTRYPOINT ["/usr/bin/sqlite-maintd"]
CMD ["run"]
