#!/usr/bin/env bash
# with-postgres.sh CMD...
#
# Starts a throw-away PostgreSQL on 127.0.0.1 (a free port, trust auth, data
# in a temporary directory), runs CMD with WSIM_TEST_POSTGRES set to its URL,
# then stops it and deletes the data, also when CMD fails. Exits with CMD's
# status. Installs Debian's postgresql package if no server is found.
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

log() { echo "with-postgres: $*" >&2; }

find_bindir() {
	local initdb
	initdb=$(ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -z "$initdb" ] && command -v initdb >/dev/null 2>&1; then
		initdb=$(command -v initdb)
	fi
	[ -n "$initdb" ] && dirname "$initdb"
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		log "no PostgreSQL server binaries found and cannot install them (need root and apt-get)"
		exit 1
	fi
	log "installing postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
	bindir=$(find_bindir)
fi

# PostgreSQL refuses to run as root; run it as the package's postgres user.
as_pg=()
run_user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
	fi
	run_user=postgres
	as_pg=(runuser -u postgres --)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsim-pg.XXXXXX")
chmod 0755 "$tmp"
data="$tmp/data"
sock="$tmp/sock"
mkdir -p "$data" "$sock"
chown -R "$run_user" "$tmp"
chmod 0700 "$data"

started=
cleanup() {
	if [ -n "$started" ]; then
		"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null && return
	local p
	for p in $(shuf -i 20000-60000 -n 50); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	return 1
}

"${as_pg[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-sync >"$tmp/initdb.log" 2>&1 || {
	cat "$tmp/initdb.log" >&2
	exit 1
}

# A port can be taken between choosing it and binding it; try a few.
for attempt in 1 2 3 4 5; do
	port=$(free_port)
	if "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c max_connections=200" start >/dev/null; then
		started=1
		break
	fi
	log "start on port $port failed (attempt $attempt)"
done
if [ -z "$started" ]; then
	cat "$tmp/server.log" >&2
	exit 1
fi

"${as_pg[@]}" "$bindir/psql" -h "$sock" -p "$port" -U postgres -d postgres -qAt -c "CREATE DATABASE wsim_test" >/dev/null

export WSIM_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/wsim_test?sslmode=disable"
log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') listening on 127.0.0.1:$port (socket $sock); WSIM_TEST_POSTGRES=$WSIM_TEST_POSTGRES"

status=0
"$@" || status=$?
exit "$status"
