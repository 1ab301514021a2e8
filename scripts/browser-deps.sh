#!/usr/bin/env bash
# browser-deps.sh
#
# Makes sure the dashboard's browser test can run: Debian's chromium at
# /usr/bin/chromium (installed with apt-get when missing; needs root) and
# playwright-core, pinned by e2e/browser/package-lock.json, in
# e2e/browser/node_modules (installed with `npm ci` when missing or out of
# date). playwright-core drives the system Chromium; no browser is
# downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "browser-deps: $*" >&2; }

if [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		log "/usr/bin/chromium is missing and cannot be installed (need root and apt-get)"
		exit 1
	fi
	log "installing chromium"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq chromium >&2
fi

command -v node >/dev/null || { log "node (v18 or later) is required"; exit 1; }
command -v npm >/dev/null || { log "npm is required"; exit 1; }

dir=e2e/browser
want=$(node -p 'require("./'"$dir"'/package-lock.json").packages["node_modules/playwright-core"].version')
have=$(node -p 'try { require("./'"$dir"'/node_modules/playwright-core/package.json").version } catch { "" }')
if [ "$have" != "$want" ]; then
	log "installing playwright-core $want"
	# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing
	# itself, but make sure no install step ever tries.
	(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2)
fi
