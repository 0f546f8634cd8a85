#!/usr/bin/env bash
# make demo: the whole chain on this machine, on loopback.
#
#   1. a rendezvous server (rendezvousd) with one account and one device,
#   2. a small local web service that stands in for the device's service,
#   3. a target (connectd) exposing that service under its UID,
#   4. an initiator (connectd) asking for the UID and serving it on a local port,
#   5. a file fetched through the tunnel with curl and checked with sha256,
#   6. the tunnel's status, then everything stopped and removed.
set -euo pipefail
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD" && pwd)
work=$(mktemp -d /tmp/p2pd-demo.XXXXXX)
pids=()

cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for FILE REGEX SECONDS
	local deadline=$((SECONDS + $3))
	until grep -qE "$2" "$1" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			echo "demo: timed out waiting for '$2' in $1:" >&2
			tail -n 20 "$1" >&2
			return 1
		fi
		sleep 0.1
	done
}

RDV_PORT=$(free_port)
WEB_PORT=$(free_port)
LOCAL_PORT=$(free_port)
UID_=80:00:00:00:01:00:0A:C2
USER_=demo@example.com
PASS=demo-password-$RANDOM
SECRET=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

say "1. rendezvous server on 127.0.0.1:$RDV_PORT (UDP, with STUN; TCP check port)"
HASH=$("$BIN/connectd" --hash "$USER_" "$PASS")
echo "auth_hash of $USER_: $HASH   (connectd --hash USER PASSWORD)"
cat >"$work/rendezvousd.conf" <<CONF
[server]
listen = 127.0.0.1:$RDV_PORT
alt_port = 0

[user $USER_]
auth_hash = $HASH
allow = $UID_

[device $UID_]
secret = $SECRET
name = demo-web
CONF
chmod 600 "$work/rendezvousd.conf"
"$BIN/rendezvousd" -c "$work/rendezvousd.conf" >"$work/rendezvousd.log" 2>&1 &
pids+=($!)
wait_for "$work/rendezvousd.log" "listening" 10

say "2. a web service on 127.0.0.1:$WEB_PORT serving a 5 MB file"
mkdir -p "$work/www"
head -c 5000000 /dev/urandom >"$work/www/file.bin"
(cd "$work/www" && exec python3 -m http.server "$WEB_PORT" --bind 127.0.0.1) >"$work/web.log" 2>&1 &
pids+=($!)
deadline=$((SECONDS + 10))
until curl -s -o /dev/null "http://127.0.0.1:$WEB_PORT/"; do
	((SECONDS < deadline)) || { echo "demo: the web service did not start" >&2; exit 1; }
	sleep 0.1
done

say "3. target $UID_ exposing 127.0.0.1:$WEB_PORT"
cat >"$work/target.conf" <<CONF
UID $UID_
secret $SECRET
proxy_dest_ip 127.0.0.1
proxy_dest_port $WEB_PORT
server 127.0.0.1:$RDV_PORT
CONF
chmod 600 "$work/target.conf"
"$BIN/connectd" -s -f "$work/target.conf" >"$work/target.log" 2>&1 &
pids+=($!)
wait_for "$work/target.log" "registered" 10
grep -E "registered" "$work/target.log" | tail -n 1

say "4. the user's side: p2pd runs an initiator for $UID_ from conf.d/, on 127.0.0.1:$LOCAL_PORT"
mkdir -p "$work/conf.d"
cat >"$work/conf.d/web.conf" <<CONF
autoconnect 2
user_id $USER_
auth_hash $HASH
remote_address $UID_
proxy_local_port $LOCAL_PORT
encryption 2
server 127.0.0.1:$RDV_PORT
CONF
chmod 600 "$work/conf.d/web.conf"
cat >"$work/p2pd.conf" <<CONF
[supervisor]
conf_dir = $work/conf.d
control_socket = $work/p2pd.sock
worker_binary = $BIN/connectd
worker_user = nobody
CONF
echo "\$ p2pd -c p2pd.conf    (conf.d/web.conf: autoconnect 2, remote_address $UID_)"
"$BIN/p2pd" -c "$work/p2pd.conf" >"$work/p2pd.log" 2>&1 &
pids+=($!)
wait_for "$work/p2pd.log" "Proxy started\." 15
grep -E "worker .*(started|Starting Proxy|Proxy started)" "$work/p2pd.log"

say "5. curl http://127.0.0.1:$LOCAL_PORT/file.bin through the tunnel"
curl -sS --max-time 60 -o "$work/fetched.bin" "http://127.0.0.1:$LOCAL_PORT/file.bin"
want=$(sha256sum <"$work/www/file.bin" | cut -d' ' -f1)
got=$(sha256sum <"$work/fetched.bin" | cut -d' ' -f1)
echo "sent     sha256 $want"
echo "received sha256 $got"
if [ "$want" != "$got" ]; then
	echo "demo: FAILED: the file changed in transit" >&2
	exit 1
fi
echo "OK: $(stat -c %s "$work/fetched.bin") bytes arrived intact"

say "6. the tunnel's status"
# The worker reports its byte counters once a second: wait until they show the file.
deadline=$((SECONDS + 5))
until "$BIN/p2pctl" -s "$work/p2pd.sock" status --json |
	python3 -c 'import json,sys; w=json.load(sys.stdin)["workers"][0]; sys.exit(0 if (w["bytes_in"] or 0) >= int(sys.argv[1]) else 1)' 5000000; do
	((SECONDS < deadline)) || break
	sleep 0.2
done
echo "\$ p2pctl status"
"$BIN/p2pctl" -s "$work/p2pd.sock" status
echo
echo "demo: done; stopping everything"
