# ncbocr in a container: Debian 12, the same packages as scripts/setup.sh,
# built from this tree, run as an unprivileged user. Not exercised by the
# test suite (see README). The container has no cron: compose.yaml's
# pipeline service runs /usr/libexec/ncbocr/ncbocr-schedule, the cron
# schedule in one process (passes, metrics, alerts, the daily backup and
# summary).
#
#   docker build -t ncbocr .
#   docker run --rm -v ncbocr-spool:/var/spool/ncbocr \
#     -v /etc/ncbocr:/etc/ncbocr:ro ncbocr status

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libtesseract-dev libleptonica-dev libopencv-dev libgmime-3.0-dev libpoppler-cpp-dev \
      libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev \
      libcli11-dev doctest-dev libarchive-dev libxml2-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN rm -rf /src/build \
 && cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
 && cmake --build /build -j"$(nproc)" --target ncbocr \
 && DESTDIR=/out cmake --install /build

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libtesseract5 liblept5 libopencv-core406 libopencv-imgproc406 libopencv-imgcodecs406 \
      libgmime-3.0-0 libpoppler-cpp0v5 libcurl4 libssl3 libyaml-cpp0.7 libspdlog1.10 libfmt9 \
      libarchive13 libxml2 ca-certificates \
      tesseract-ocr-eng tesseract-ocr-msa tesseract-ocr-chi-sim tesseract-ocr-tam tesseract-ocr-osd \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/bin/ncbocr /usr/bin/ncbocr
COPY --from=build /out/usr/share/man /usr/share/man
COPY --from=build /out/etc/ncbocr/ncbocr.example.yaml /etc/ncbocr/ncbocr.example.yaml
COPY --from=build /out/usr/libexec/ncbocr/ncbocr-schedule /usr/libexec/ncbocr/ncbocr-schedule
# A fixed uid/gid (999), so Kubernetes can check runAsNonRoot and the
# manifests (deploy/kubernetes) can name them: runAsUser, fsGroup.
RUN groupadd --system --gid 999 ncbocr \
 && useradd --system --uid 999 --gid ncbocr --home-dir /var/lib/ncbocr --shell /usr/sbin/nologin ncbocr \
 && install -d -o ncbocr -g ncbocr -m 0700 /var/spool/ncbocr /var/spool/backups /var/lib/ncbocr /var/log/ncbocr \
 && install -d -o ncbocr -g ncbocr -m 0755 /var/lib/prometheus/node-exporter
USER ncbocr
WORKDIR /var/lib/ncbocr
ENV NCBOCR_CONFIG=/etc/ncbocr/ncbocr.yaml
VOLUME ["/var/spool/ncbocr", "/var/spool/backups", "/var/lib/ncbocr"]
ENTRYPOINT ["/usr/bin/ncbocr"]
CMD ["status"]
