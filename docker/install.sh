#!/bin/sh
# The Dockerfile's build steps, as a script that also runs outside Docker (the project's CI runs it
# against a fresh Node-RED user dir): ffmpeg from the OS, the package from npm, and a check that
# ONNX Runtime loads here. Usage: install.sh [DIR]   (DIR: where to npm install; default the
# current folder). EDGEVISION_PACKAGE: what to install (default @edgevision/node-red-vision).
# EDGEVISION_SKIP_APT=1 skips the apt step (ffmpeg already installed).
set -eu
dir="${1:-.}"
pkg="${EDGEVISION_PACKAGE:-@edgevision/node-red-vision}"
# A tarball named relative to where the script was started.
case "$pkg" in
  ./*|../*) pkg="$(pwd)/$pkg" ;;
esac

if [ -e /etc/alpine-release ] || ldd --version 2>&1 | grep -qi musl; then
  echo "edgevision: this is a musl (Alpine) system; ONNX Runtime ships glibc builds only." >&2
  echo "edgevision: use a Debian-based image, e.g. nodered/node-red:latest-debian" >&2
  exit 1
fi

if [ "${EDGEVISION_SKIP_APT:-0}" != 1 ] && ! command -v ffmpeg >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
  rm -rf /var/lib/apt/lists/*
fi

cd "$dir"
[ -f package.json ] || echo '{"name":"node-red-project","private":true}' > package.json
# No environment variable or .npmrc is needed: the package carries ONNX Runtime's binding itself.
npm install --omit=dev --no-audit --no-fund --no-update-notifier "$pkg"

# Smoke check: the binding loads on this machine and says which providers it can use.
npx --no-install edgevision providers
