#!/usr/bin/env bash
# Front-end libraries from the npm registry, pinned by package-lock.json, copied into the API's static dir.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$REPO/web"
[ -f "$WEB/package.json" ] || exit 0
command -v npm >/dev/null || { echo "ERROR: npm is missing; install Node.js 20 and npm" >&2; exit 1; }
cd "$WEB"
stamp="node_modules/.aiff-installed"
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "frontend: npm ci (pinned by package-lock.json)…"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
npm run --silent build
