#!/usr/bin/env bash
# t_supervisor.sh: p2pd and p2pctl with real workers (connectd) and with a fake
# worker (a shell script) that exits, fails or sleeps on demand.
#
# Every p2pd runs in a network namespace of its own (loopback only), so the
# workers' ports never meet the host's. The control socket is a file in this
# run's temporary directory. Nothing waits a fixed time for a condition: every
# wait polls with a deadline; "stays down" is checked by sampling for a while.

. "$(dirname "$0")/lib.sh"
need_bin p2pd p2pctl connectd
need_cmd setpriv stat

AUTH_HASH=0123456789abcdef0123456789abcdef01234567
SECRET=e2e-secret-0123456789abcdef
U_INI=80:00:00:00:01:00:0A:01
U_TGT=80:00:00:00:01:00:0A:02

# ---------------------------------------------------------------------------
# Helpers

# stays_for SECONDS CMD...: CMD holds at every sample for SECONDS.
stays_for() {
	local t=$1 deadline
	shift
	deadline=$((${EPOCHREALTIME/./} / 1000 + t * 1000))
	while ((${EPOCHREALTIME/./} / 1000 < deadline)); do
		if ! "$@" >/dev/null 2>&1; then
			diag "stopped being true within $t s: $*"
			return 1
		fi
		sleep 0.2
	done
}

ctl() {
	"$P2PCTL" -s "$SOCK" "$@"
}

# field UID KEY: one field of the worker from "p2pctl status --json UID" ("" for null).
field() {
	local out
	out=$(ctl status --json "$1" 2>/dev/null) || true
	"$E2E_PYTHON" -c '
import json, sys
try:
    w = json.loads(sys.stdin.read())["workers"][0]
except Exception:
    sys.exit(1)
v = w.get(sys.argv[1])
print("" if v is None else v)' "$2" <<<"$out"
}

field_is() { [[ $(field "$1" "$2") == "$3" ]]; }
field_not() { [[ $(field "$1" "$2") != "$3" ]]; }
field_ge() { local v; v=$(field "$1" "$2"); [[ -n $v ]] && ((v >= $3)); }
count_ge() { (($(grep -c -- "$2" "$3") >= $1)); }
dead() { ! kill -0 "$1" 2>/dev/null; }
absent() {
	local out rc=0
	out=$(ctl status "$1" 2>&1) || rc=$?
	((rc == 1)) && grep -q 'no such worker' <<<"$out"
}
starts() { [[ -f $STATE/$1.starts ]] && wc -l <"$STATE/$1.starts" || echo 0; }
starts_is() { [[ $(starts "$1") == "$2" ]]; }

# target_conf FILE UID AUTOCONNECT [FAKE_MODE]
target_conf() {
	{
		echo "UID $2"
		echo "secret $SECRET"
		echo "proxy_dest_port 22"
		echo "server 127.0.0.1:1"
		echo "autoconnect $3"
		[[ -n ${4:-} ]] && echo "# fake: $4"
	} >"$1"
	chmod 600 "$1"
}

# setup_dir WORKER_BINARY: a fresh p2pd.conf, conf.d and socket path.
setup_dir() {
	DIR=$E2E_TMP/sup$1
	mkdir -p "$DIR/conf.d" "$DIR/state"
	chmod 711 "$E2E_TMP"
	chmod 755 "$DIR"
	SOCK=$DIR/ctl.sock
	STATE=$DIR/state
	CONF=$DIR/p2pd.conf
	cat >"$CONF" <<EOF
[supervisor]
conf_dir = $DIR/conf.d
control_socket = $SOCK
control_group = p2pde2enogroup
worker_user = nobody
worker_binary = $2
restart_min = 1
restart_max = 4
EOF
}

# The fake worker: what it does is the "# fake: MODE" line of its file.
write_fake() {
	FAKE=$E2E_TMP/fake-worker
	cat >"$FAKE" <<'EOF'
#!/bin/sh
file=
while [ $# -gt 0 ]; do
	case $1 in
	-f) file=$2; shift 2 ;;
	*) shift ;;
	esac
done
mode=$(sed -n 's/^# fake: //p' "$file")
name=$(basename "$file" .conf)
echo $$ >>"$STATE_DIR/$name.starts"
echo "fake worker $name: mode $mode, status fd ${P2PD_STATUS_FD:-none}, supervised ${P2PD_SUPERVISED:-no}" >&2
case $mode in
exit1) exit 1 ;;
exit78) exit 78 ;;
die) kill -KILL $$ ;;
sleep) exec sleep 100000 ;;
stubborn) trap '' TERM; exec sleep 100000 ;;
status) printf '\001\001\000\007running' >&3; exec sleep 100000 ;;
garbage) printf '\007\001\000\001x' >&3; exec sleep 100000 ;;
esac
exit 25
EOF
	chmod 755 "$FAKE"
}

# A listener for the sd_notify datagrams p2pd sends: one line per datagram.
start_notify() {
	NOTIFY=$DIR/notify.sock
	spawn - notify "$E2E_PYTHON" -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    print(s.recv(4096).decode().replace("\n", " | "), flush=True)' "$NOTIFY"
	wait_log notify listening 5
}

start_p2pd() {
	spawn sup p2pd env NOTIFY_SOCKET="$NOTIFY" STATE_DIR="$STATE" "$P2PD" -c "$CONF"
	wait_log notify 'READY=1' 10
}

# ---------------------------------------------------------------------------
# Scenario 1: real workers (connectd).

ini_conf() {
	cat >"$1" <<EOF
autoconnect 2
user_id e2e@example.com
auth_hash $AUTH_HASH
remote_address $U_INI
proxy_local_port 33000
server 127.0.0.1:1
EOF
	chmod 600 "$1"
}

check_dash_n_ok() {
	local out
	out=$("$P2PD" -c "$CONF" -n)
	grep -qx "$DIR/conf.d/ini.conf: ok (initiator $U_INI, autoconnect 2)" <<<"$out"
	grep -qx "$DIR/conf.d/tgt.conf: ok (target $U_TGT, autoconnect 2)" <<<"$out"
	[[ $(tail -n 1 <<<"$out") == "configuration OK" ]]
}

check_socket_mode() {
	[[ -S $SOCK ]]
	[[ $(stat -c %a "$SOCK") == 660 ]]
}

check_status_up() {
	local out
	out=$(ctl status)
	grep -q "^$U_INI .* initiator .*up" <<<"$out"
	grep -q "^$U_TGT .* target .*up" <<<"$out"
}

check_uid_in_logs() {
	local log
	log=$(log_of p2pd)
	grep -q "connectd\[$U_TGT\]: target mode" "$log"
	grep -q "connectd\[$U_INI\]: initiator mode" "$log"
	grep -q "worker $U_INI: Starting Proxy on port 33000 on index 1\." "$log"
}

check_kill9_restarts() {
	local old new
	old=$(field "$U_TGT" pid)
	[[ -n $old ]]
	kill -KILL "$old"
	wait_for 10 field_not "$U_TGT" pid "$old"
	wait_for 10 field_is "$U_TGT" state up
	new=$(field "$U_TGT" pid)
	[[ -n $new && $new != "$old" ]]
	dead "$old"
	field_is "$U_TGT" restarts 1
	field_is "$U_TGT" last_error "killed by signal 9"
}

check_ctl_kill_start_restart() {
	local old new newer rc=0
	old=$(field "$U_TGT" pid)
	ctl kill "$U_TGT"
	dead "$old" # kill answers only once the worker is gone
	field_is "$U_TGT" state down
	field_is "$U_TGT" want down
	stays_for 3 field_is "$U_TGT" state down # restart_min is 1 s: it would be back
	ctl start "$U_TGT"
	field_is "$U_TGT" state up
	new=$(field "$U_TGT" pid)
	[[ -n $new && $new != "$old" ]]
	ctl restart "$U_TGT"
	newer=$(field "$U_TGT" pid)
	[[ -n $newer && $newer != "$new" ]]
	dead "$new"
	field_is "$U_TGT" state up
	ctl status "$U_TGT" >/dev/null || rc=$?
	((rc == 0))
}

check_unknown_uid() {
	local rc=0 out
	out=$(ctl kill 80:00:00:00:01:00:0A:FF 2>&1) || rc=$?
	((rc == 1))
	grep -q 'no worker for UID 80:00:00:00:01:00:0A:FF' <<<"$out"
	rc=0
	out=$(ctl status 80:00:00:00:01:00:0A:FF 2>&1) || rc=$?
	((rc == 1))
	rc=0
	out=$(ctl kill not-a-uid 2>&1) || rc=$?
	((rc == 64))
	grep -q "bad UID 'not-a-uid'" <<<"$out"
}

check_permission_denied() {
	local bin=$DIR/p2pctl-copy rc=0 out
	cp "$P2PCTL" "$bin"
	chmod 755 "$bin"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" -s "$SOCK" status 2>&1) ||
		rc=$?
	((rc == 4))
	grep -q "cannot connect to $SOCK: Permission denied" <<<"$out"
}

check_initiator_retries() {
	# server 127.0.0.1:1 answers nothing: the initiator gives up (exit 13)
	# and, with autoconnect 2, is started again.
	wait_for 40 field_ge "$U_INI" restarts 1
	[[ $(field "$U_INI" last_error) == "exit 13"* ]]
}

check_reload_signals() {
	kill_proc p2pd HUP
	wait_log notify 'RELOADING=1' 5
	wait_for 5 count_ge 2 'READY=1' "$(log_of notify)"
}

check_sigterm() {
	local pids
	pids="$(field "$U_INI" pid) $(field "$U_TGT" pid)"
	kill_proc p2pd TERM
	expect_exit p2pd 0 6
	for p in $pids; do dead "$p"; done
	grep -q 'STOPPING=1' "$(log_of notify)"
	[[ ! -e $SOCK ]]
}

check_no_daemon() {
	local rc=0 out
	out=$(ctl status 2>&1) || rc=$?
	((rc == 2))
	grep -q "cannot connect to $SOCK: No such file or directory (is p2pd running?)" <<<"$out"
}

real_workers() {
	ns_new sup
	setup_dir 1 "$CONNECTD"
	ini_conf "$DIR/conf.d/ini.conf"
	target_conf "$DIR/conf.d/tgt.conf" "$U_TGT" 2
	check "p2pd -n accepts the files" check_dash_n_ok
	start_notify
	start_p2pd
	check "the control socket has mode 0660" check_socket_mode
	check "status lists both workers up" check_status_up
	check "the worker's own state comes over the status channel" \
		wait_for 10 field_is "$U_TGT" detail registering
	check "worker log lines carry the UID" wait_for 10 check_uid_in_logs
	check "kill -9 of an autoconnect 2 worker: a new worker" check_kill9_restarts
	check "p2pctl kill keeps it down; start and restart bring new PIDs" \
		check_ctl_kill_start_restart
	check "unknown or bad UIDs are refused" check_unknown_uid
	check "permission denied is reported (exit 4)" check_permission_denied
	check "an autoconnect 2 initiator that fails is restarted" check_initiator_retries
	check "SIGHUP reloads, with RELOADING=1 and READY=1" check_reload_signals
	check "SIGTERM: every worker gone, exit 0" check_sigterm
	check "p2pctl without p2pd: exit 2 and a hint" check_no_daemon
}

# ---------------------------------------------------------------------------
# Scenario 2: the fake worker.

U_CRASH=80:00:00:00:02:00:00:01
U_ONCE=80:00:00:00:02:00:00:02
U_CFG=80:00:00:00:02:00:00:03
U_SLEEP=80:00:00:00:02:00:00:04
U_CHANGE=80:00:00:00:02:00:00:05
U_REMOVE=80:00:00:00:02:00:00:06
U_ADD=80:00:00:00:02:00:00:07
U_STATUS=80:00:00:00:02:00:00:08
U_DIE=80:00:00:00:02:00:00:09
U_GARBAGE=80:00:00:00:02:00:00:0A
U_MANUAL=80:00:00:00:02:00:00:0B
U_STUBBORN=80:00:00:00:02:00:00:0C

check_dash_n_bad() {
	local rc=0 out
	out=$("$P2PD" -c "$CONF" -n) || rc=$?
	((rc == 78))
	grep -qx "$DIR/conf.d/bad.conf:1: UID: invalid value .*" <<<"$out"
	grep -qx "$DIR/conf.d/bad.conf:3: proxy_dest_port: invalid value 'none': .*" <<<"$out"
	grep -qx "$DIR/conf.d/sleep.conf: ok (target $U_SLEEP, autoconnect 2)" <<<"$out"
	grep -q '^configuration invalid: ' <<<"$out"
}

# backoff_grows: record backoff_s while the crashing worker is restarted and
# require 1, 2 and 4 (restart_min 1, restart_max 4), in that order.
backoff_grows() {
	local seen="" b deadline
	deadline=$((${EPOCHREALTIME/./} / 1000 + 20000))
	while ((${EPOCHREALTIME/./} / 1000 < deadline)); do
		b=$(field "$U_CRASH" backoff_s)
		if [[ -n $b && " $seen " != *" $b "* ]]; then
			seen="$seen $b"
		fi
		if [[ $seen == " 1 2 4" ]]; then
			field_ge "$U_CRASH" restarts 2
			return 0
		fi
		sleep 0.05
	done
	diag "backoff values seen:$seen (want 1 2 4)"
	return 1
}

check_once_stays_down() {
	field_is "$U_ONCE" state down
	field_is "$U_ONCE" want down
	field_is "$U_ONCE" last_exit 1
	field_is "$U_ONCE" restarts 0
	starts_is once 1
	field_is "$U_DIE" last_error "killed by signal 9"
	starts_is die 1
}

check_exit78_permanent() {
	field_is "$U_CFG" state failed
	starts_is cfg 1
	stays_for 3 starts_is cfg 1
}

check_invalid_reported() {
	local out
	out=$(ctl status --json) || true # exit 3: some wanted workers are not up
	"$E2E_PYTHON" -c '
import json, sys
d = json.loads(sys.argv[1])
bad = [(i["file"].rsplit("/", 1)[1], i["line"]) for i in d["invalid"]]
assert ("bad.conf", 1) in bad and ("bad.conf", 3) in bad, bad
' "$out"
	out=$(ctl status) || true
	grep -q "bad.conf:3: proxy_dest_port: invalid value 'none'" <<<"$out"
}

check_status_channel() {
	wait_for 10 field_is "$U_STATUS" detail running
	wait_for 10 grep -q "worker $U_GARBAGE (pid [0-9]*) sent a bad status message: version 7, expected 1" \
		"$(log_of p2pd)"
	wait_for 10 field_ge "$U_GARBAGE" restarts 1
}

check_manual() {
	field_is "$U_MANUAL" state down
	starts_is manual 0
	ctl start "$U_MANUAL"
	field_is "$U_MANUAL" state up
	starts_is manual 1
}

check_reload() {
	local out SLEEP_PID CHANGE_PID REMOVE_PID
	SLEEP_PID=$(field "$U_SLEEP" pid)
	CHANGE_PID=$(field "$U_CHANGE" pid)
	REMOVE_PID=$(field "$U_REMOVE" pid)
	[[ -n $SLEEP_PID && -n $CHANGE_PID && -n $REMOVE_PID ]]
	echo "# changed" >>"$DIR/conf.d/change.conf"
	echo "# changed" >>"$DIR/conf.d/cfg.conf"
	rm "$DIR/conf.d/remove.conf"
	target_conf "$DIR/conf.d/add.conf" "$U_ADD" 2 sleep
	target_conf "$DIR/conf.d/0dup.conf" "$U_SLEEP" 2 sleep
	touch "$DIR/conf.d/sleep.conf" # a new mtime alone is no change
	out=$(ctl reload)
	diag "reload: $out"
	[[ $out == "reloaded: 1 started, 1 stopped, 2 restarted, 8 unchanged, 2 invalid files" ]]
	field_is "$U_SLEEP" pid "$SLEEP_PID"
	field_is "$U_SLEEP" file "$DIR/conf.d/sleep.conf"
	wait_for 10 field_is "$U_CHANGE" state up
	field_not "$U_CHANGE" pid "$CHANGE_PID"
	dead "$CHANGE_PID"
	wait_for 10 dead "$REMOVE_PID"
	wait_for 10 absent "$U_REMOVE"
	wait_for 10 field_is "$U_ADD" state up
	starts_is add 1
	wait_for 10 starts_is cfg 2 # exit 78 is retried once its file changed
	wait_for 10 field_is "$U_CFG" state failed
	out=$(ctl status --json) || true
	grep -q '0dup.conf' <<<"$out"
}

# Random and malformed requests; p2pd must keep serving.
garbage() {
	"$E2E_PYTHON" - "$SOCK" <<'EOF'
import os, random, socket, sys, time
path = sys.argv[1]
rnd = random.Random(7)
verbs = [b"status", b"kill", b"start", b"restart", b"reload", b"STATUS", b""]
def one(data, read):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        if read:
            buf = b""
            while not buf.endswith(b"end\n"):
                d = s.recv(65536)
                if not d:
                    break
                buf += d
            return buf
    except OSError:
        pass
    finally:
        s.close()
    return b""
errors = 0
for i in range(3000):
    k = i % 6
    if k == 0:
        data = os.urandom(rnd.randrange(0, 1500))
    elif k == 1:
        data = rnd.choice(verbs) + b" " + os.urandom(rnd.randrange(0, 40)) + b"\n"
    elif k == 2:
        data = b"kill 80:00:00:00:03:00:00:0" + bytes([rnd.randrange(32, 127)]) + b"\n"
    elif k == 3:
        data = b"x" * rnd.randrange(500, 3000)
    elif k == 4:
        data = b"status\x00\n"
    else:
        data = b"start " + b"80:" * rnd.randrange(0, 200) + b"\n"
    reply = one(data, read=(i % 2 == 0))
    if i % 2 == 0 and reply and not (reply.startswith(b"ok") or reply.startswith(b"error")):
        print("odd reply", reply[:80])
        errors += 1
# Many idle clients at once: the ones over the limit are told "busy".
idle = []
for i in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    idle.append(s)
busy = 0
for s in idle:
    s.settimeout(0.5)
    try:
        if s.recv(100).startswith(b"error busy"):
            busy += 1
    except socket.timeout:
        pass
for s in idle:
    s.close()
print("busy refusals:", busy)
if busy < 20:
    errors += 1
# A client that sends half a request and stalls is dropped (about 5 s).
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(b"stat")
s.settimeout(10)
t = time.monotonic()
if s.recv(100) != b"":
    errors += 1
print("stalled client dropped after %.1f s" % (time.monotonic() - t))
sys.exit(1 if errors else 0)
EOF
}

check_survives_garbage() {
	local before after
	before=$(field "$U_SLEEP" pid)
	garbage
	running p2pd
	ctl status >/dev/null || [[ $? == 3 ]]
	after=$(field "$U_SLEEP" pid)
	[[ $before == "$after" ]]
}

check_sigterm_fake() {
	local pids t0 ms
	pids="$(field "$U_SLEEP" pid) $(field "$U_STATUS" pid) $(field "$U_ADD" pid)"
	pids="$pids $(field "$U_STUBBORN" pid)" # ignores TERM: needs the KILL after 5 s
	[[ $pids != *"  "* && $pids != " "* ]]
	t0=${EPOCHREALTIME/./}
	kill_proc p2pd TERM
	expect_exit p2pd 0 8
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	diag "p2pd exited $ms ms after SIGTERM"
	((ms >= 4900 && ms < 7000))
	for p in $pids; do dead "$p"; done
	grep -q "worker $U_STUBBORN (pid [0-9]*) did not stop within 5 s; sending SIGKILL" \
		"$(log_of p2pd)"
}

fake_workers() {
	ns_new sup
	write_fake
	setup_dir 2 "$FAKE"
	local d=$DIR/conf.d
	target_conf "$d/crash.conf" "$U_CRASH" 2 exit1
	target_conf "$d/once.conf" "$U_ONCE" 1 exit1
	target_conf "$d/cfg.conf" "$U_CFG" 2 exit78
	target_conf "$d/sleep.conf" "$U_SLEEP" 2 sleep
	target_conf "$d/change.conf" "$U_CHANGE" 2 sleep
	target_conf "$d/remove.conf" "$U_REMOVE" 2 sleep
	target_conf "$d/status.conf" "$U_STATUS" 2 status
	target_conf "$d/die.conf" "$U_DIE" 1 die
	target_conf "$d/garbage.conf" "$U_GARBAGE" 2 garbage
	target_conf "$d/manual.conf" "$U_MANUAL" 0 sleep
	target_conf "$d/stubborn.conf" "$U_STUBBORN" 2 stubborn
	printf 'UID 80:00:00:00\nsecret %s\nproxy_dest_port none\n' "$SECRET" >"$d/bad.conf"
	chmod 600 "$d/bad.conf"
	cp "$d/sleep.conf" "$d/sleep.conf~" # an editor backup: ignored
	check "p2pd -n lists every error and exits 78" check_dash_n_bad
	start_notify
	start_p2pd
	check "a worker that keeps failing backs off 1, 2, 4 s" backoff_grows
	check "autoconnect 1 workers that exit stay down" check_once_stays_down
	check "exit 78 is not retried" check_exit78_permanent
	check "invalid files are in status with file:line" check_invalid_reported
	check "status messages reach p2pd; a bad one ends the worker" check_status_channel
	check "autoconnect 0 waits for p2pctl start" check_manual
	check "reload: added, removed, changed, untouched, duplicate" check_reload
	check "thousands of malformed requests leave p2pd serving" check_survives_garbage
	check "SIGTERM: TERM, KILL after 5 s for one that ignores it, exit 0" check_sigterm_fake
}

scenario "supervisor with real workers" real_workers
scenario "supervisor with fake workers" fake_workers
