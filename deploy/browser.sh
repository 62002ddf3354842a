#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it by executable path; its own download fails here).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ERROR: chromium is missing; install Debian's package: sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "browser: installing Debian's chromium (first run only)…"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
