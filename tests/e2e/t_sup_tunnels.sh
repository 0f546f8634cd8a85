#!/usr/bin/env bash
# t_sup_tunnels.sh: p2pd runs real tunnels. Two NATs (port-preserving); in the
# target's namespace one p2pd runs three targets (a web server, an echo
# server, an "answer" server behind them); in the initiator's namespace a
# second p2pd runs three autoconnect 2 initiators for them on 127.0.0.1:33000,
# 33001 and 33002. Both p2pd run as root with worker_user nobody.
#
# Checked: p2pctl status (table and --json, exit code) on both sides shows
# every worker up, the initiators connected over a direct path to the target's
# public address; traffic through each tunnel; every worker p2pctl names is
# sandboxed (NoNewPrivs 1, Seccomp 2, the uid of nobody); kill -9 of one
# initiator worker gives a new worker that carries traffic again while the
# others keep their processes; the status columns (bytes, RTT, uptime,
# restarts) move as they should.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p2plib.sh"
need_bin rendezvousd connectd p2pd p2pctl
need_cmd curl sha256sum
TCPTOOL=$E2E_DIR/tcptool.py
p2p_accounts

WORKER_USER=nobody
if ! WORKER_UID=$(id -u "$WORKER_USER" 2>/dev/null); then
	skip_all "needs a user $WORKER_USER for the workers"
fi
WORKER_GID=$(id -g "$WORKER_USER")

# The three devices: UID, what the target exposes, the initiator's port.
UIDS=("$P2P_UID" "$P2P_UID2" "$P2P_UID3")
SECRETS=("$P2P_SECRET" "$P2P_SECRET2" "$P2P_SECRET3")
NAMES=(web echo answer)
DPORTS=(8080 7000 7001)
LPORTS=(33000 33001 33002)
ANSWER_SIZE=1000000

# The reader of p2pctl status --json (and the table), for the checks:
#   field KEY JSON            the KEY of the first worker ("" for null)
#   pids JSON                 every worker's pid, one per line
#   cell TABLE UID COLUMN     one cell of the table (cells may hold spaces)
#   agree SIDE NATT JSON TABLE UID...
#                             the JSON parses, lists exactly the UIDs, all up,
#                             and says what the table says, row by row
STATUS_PY=$E2E_TMP/status.py
cat >"$STATUS_PY" <<'PY'
import json, re, sys


def parse_table(text):
    """The rows of the p2pctl status table as {uid: {column: cell}}; the
    columns start where the header's names start (cells may hold spaces)."""
    lines = text.splitlines()
    head = lines[0]
    cols = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", head)]
    rows = {}
    for l in lines[1:]:
        if not l.startswith("80:"):
            continue
        cells = {}
        for i, (start, name) in enumerate(cols):
            end = cols[i + 1][0] if i + 1 < len(cols) else len(l)
            cells[name] = l[start:end].strip()
        rows[cells["UID"]] = cells
    return rows


def agree(side, natt, js, table, uids):
    d = json.loads(js)
    assert d["all_wanted_up"] is True, "all_wanted_up is %r" % d["all_wanted_up"]
    assert d["invalid"] == [], "invalid files: %r" % d["invalid"]
    ws = {w["uid"]: w for w in d["workers"]}
    assert sorted(ws) == sorted(uids), "workers %r, want %r" % (sorted(ws), sorted(uids))
    rows = parse_table(table)
    assert sorted(rows) == sorted(uids), "table rows %r" % sorted(rows)
    for u in uids:
        w, r = ws[u], rows[u]
        want = [("state", "up"), ("want", "up"), ("autoconnect", 2),
                ("mode", "initiator" if side == "ini" else "target")]
        want += [("detail", "connected"), ("path", "direct")]
        for k, v in want:
            assert w[k] == v, "%s: %s is %r, want %r" % (u, k, w[k], v)
        assert isinstance(w["pid"], int) and w["pid"] > 1, "%s: pid %r" % (u, w["pid"])
        assert re.fullmatch(re.escape(natt) + r":\d+", w["peer"] or ""), \
            "%s: peer %r, want %s:*" % (u, w["peer"], natt)
        same = {"NAME": w["name"], "MODE": w["mode"], "STATE": "up:%s" % w["detail"],
                "PID": str(w["pid"]), "LOCAL": w["local"] or "-", "PATH": w["path"] or "-",
                "PEER": w["peer"] or "-", "IN": str(w["bytes_in"]),
                "OUT": str(w["bytes_out"]), "RESTARTS": str(w["restarts"]),
                "LAST ERROR": w["last_error"] or "-"}
        for col, v in same.items():
            assert r[col] == v, "%s: table %s is %r, json says %r" % (u, col, r[col], v)
        rtt = r["RTT"]
        assert (w["rtt_ms"] is None and rtt == "-") or rtt == "%dms" % w["rtt_ms"] or \
            re.fullmatch(r"\d+ms", rtt), "%s: table RTT %r, json %r" % (u, rtt, w["rtt_ms"])
        assert re.fullmatch(r"\d+s|\d+m\d\ds", r["UPTIME"]), "%s: UPTIME %r" % (u, r["UPTIME"])
    print("json agrees with the table for %d workers" % len(uids))


def main():
    m, a = sys.argv[1], sys.argv[2:]
    try:
        if m == "field":
            v = json.loads(a[1])["workers"][0].get(a[0])
            print("" if v is None else v)
        elif m == "pids":
            for w in json.loads(a[0])["workers"]:
                print(w["pid"])
        elif m == "cell":
            print(parse_table(a[0])[a[1]][a[2]])
        elif m == "agree":
            agree(a[0], a[1], a[2], a[3], a[4:])
        else:
            sys.exit("status.py: unknown mode " + m)
    except (AssertionError, KeyError, IndexError, ValueError, TypeError) as e:
        sys.exit("status.py %s: %s" % (m, e))


main()
PY

# ---------------------------------------------------------------------------
# Helpers

# ctl SIDE ARGS...: p2pctl against the p2pd of SIDE (ini or tgt).
ctl() {
	local side=$1
	shift
	"$P2PCTL" -s "$E2E_TMP/$side/ctl.sock" "$@"
}

# field SIDE UID KEY: one field of a worker from p2pctl status --json ("" for null).
field() {
	local out
	out=$(ctl "$1" status --json "$2" 2>/dev/null) || true
	"$E2E_PYTHON" "$STATUS_PY" field "$3" "$out"
}

field_is() { [[ $(field "$1" "$2" "$3") == "$4" ]]; }
field_not() { [[ $(field "$1" "$2" "$3") != "$4" ]]; }
field_gt() {
	local v
	v=$(field "$1" "$2" "$3")
	[[ -n $v ]] && ((v > $4))
}

# sup_start SIDE NS: a p2pd for SIDE in NS, its files in $E2E_TMP/SIDE/conf.d.
sup_start() {
	local side=$1 ns=$2 d=$E2E_TMP/$1
	cat >"$d/p2pd.conf" <<EOF
[supervisor]
conf_dir = $d/conf.d
control_socket = $d/ctl.sock
control_group = root
worker_user = $WORKER_USER
worker_binary = $CONNECTD
server = $IP_RDV:5959
restart_min = 1
restart_max = 4
EOF
	spawn "$ns" "p2pd$side" "$P2PD" -c "$d/p2pd.conf"
	wait_for 10 test -S "$d/ctl.sock"
}

# The provisioning files. They name no server: p2pd gives its own.
write_files() {
	local i
	mkdir -p "$E2E_TMP/tgt/conf.d" "$E2E_TMP/ini/conf.d"
	for i in 0 1 2; do
		cat >"$E2E_TMP/tgt/conf.d/${NAMES[i]}.conf" <<EOF
# target: ${NAMES[i]} service
name t-${NAMES[i]}
autoconnect 2
UID ${UIDS[i]}
secret ${SECRETS[i]}
proxy_dest_ip 127.0.0.1
proxy_dest_port ${DPORTS[i]}
EOF
		cat >"$E2E_TMP/ini/conf.d/${NAMES[i]}.conf" <<EOF
# initiator: ${NAMES[i]} service on 127.0.0.1:${LPORTS[i]}
name i-${NAMES[i]}
autoconnect 2
user_id $P2P_USER
auth_hash $P2P_HASH
remote_address ${UIDS[i]}
proxy_local_port ${LPORTS[i]}
encryption $((i == 2 ? 3 : 2))
EOF
	done
	chmod 600 "$E2E_TMP"/tgt/conf.d/*.conf "$E2E_TMP"/ini/conf.d/*.conf
}

services() {
	mkdir -p "$E2E_TMP/www"
	p2p_blob "$E2E_TMP/www/blob" 5000000
	p2p_web "$NS_TGT" web 127.0.0.1 8080 "$E2E_TMP/www"
	spawn "$NS_TGT" echo "$E2E_PYTHON" "$TCPTOOL" echo 7000
	wait_port "$NS_TGT" 127.0.0.1 7000 10 echo
	spawn "$NS_TGT" answer "$E2E_PYTHON" "$TCPTOOL" answer 7001 "$ANSWER_SIZE"
	wait_port "$NS_TGT" 127.0.0.1 7001 10 answer
}

# all_connected: every initiator is up:connected (its tunnel is up).
all_connected() {
	local i
	for i in 0 1 2; do
		field_is ini "${UIDS[i]}" detail connected || return 1
	done
}

# all_registered: every target is up:registered with the rendezvous server.
all_registered() {
	local i
	for i in 0 1 2; do
		field_is tgt "${UIDS[i]}" detail registered || return 1
	done
}

# tgt_connected: every target is up:connected (it has a session).
tgt_connected() {
	local i
	for i in 0 1 2; do
		field_is tgt "${UIDS[i]}" detail connected || return 1
	done
}

# ---------------------------------------------------------------------------
# The checks

echo_ok() {
	nsx "$NS_INI" "$E2E_PYTHON" "$TCPTOOL" concurrent "${LPORTS[1]}" 20 100000
}

answer_ok() {
	nsx "$NS_INI" "$E2E_PYTHON" "$TCPTOOL" halfclose "${LPORTS[2]}" 200000 "$ANSWER_SIZE"
}

# cell TABLE UID COLUMN: one cell of the p2pctl status table.
cell() {
	"$E2E_PYTHON" "$STATUS_PY" cell "$1" "$2" "$3"
}

# check_table SIDE: p2pctl status exits 0 and shows the three workers up and
# connected over a direct path: each initiator to the target's NAT, each
# target to the initiator's NAT.
check_table() {
	local side=$1 out rc=0 i u mode=initiator peer=$IP_NATT
	if [[ $side == tgt ]]; then
		mode=target
		peer=$IP_NATI
	fi
	out=$(ctl "$side" status) || rc=$?
	diag "p2pctl status ($side side, exit $rc):" "$out"
	((rc == 0))
	[[ $(grep -c '^80:' <<<"$out") == 3 ]]
	for i in 0 1 2; do
		u=${UIDS[i]}
		[[ $(cell "$out" "$u" NAME) == "${side:0:1}-${NAMES[i]}" ]]
		[[ $(cell "$out" "$u" MODE) == "$mode" ]]
		[[ $(cell "$out" "$u" STATE) == up:connected ]]
		[[ $(cell "$out" "$u" PATH) == direct ]]
		[[ $(cell "$out" "$u" PEER) =~ ^${peer//./\\.}:[0-9]+$ ]]
		if [[ $side == ini ]]; then
			[[ $(cell "$out" "$u" LOCAL) == "127.0.0.1:${LPORTS[i]}" ]]
		else
			[[ $(cell "$out" "$u" LOCAL) == "->127.0.0.1:${DPORTS[i]}" ]]
		fi
		[[ $(cell "$out" "$u" RESTARTS) == 0 ]]
		[[ $(cell "$out" "$u" "LAST ERROR") == - ]]
	done
}

# The JSON: parses, and agrees with the table row by row.
check_json() {
	local side=$1 js table rc=0
	js=$(ctl "$side" status --json) || rc=$?
	((rc == 0))
	table=$(ctl "$side" status)
	"$E2E_PYTHON" "$STATUS_PY" agree "$side" "$([[ $side == ini ]] && echo "$IP_NATT" || echo "$IP_NATI")" \
		"$js" "$table" "${UIDS[@]}"
}

# pids SIDE: the PIDs p2pctl reports, one per line.
pids() {
	local out
	out=$(ctl "$1" status --json) || true
	"$E2E_PYTHON" "$STATUS_PY" pids "$out"
}

# children SIDE: the PIDs of the processes whose parent is that side's p2pd.
children() {
	ps -o pid= --ppid "$(pid_of "p2pd$1")" | tr -d ' ' | sort -n
}

# check_three_workers SIDE: p2pd has exactly three children, each a connectd,
# and they are the three PIDs p2pctl reports.
check_three_workers() {
	local side=$1 kids listed p
	[[ $(cat "/proc/$(pid_of "p2pd$side")/comm") == p2pd ]]
	kids=$(children "$side")
	listed=$(pids "$side" | sort -n)
	diag "$side: p2pd's children: ${kids//$'\n'/ }; p2pctl's PIDs: ${listed//$'\n'/ }"
	[[ $(wc -l <<<"$kids") == 3 ]]
	[[ $kids == "$listed" ]]
	for p in $kids; do
		[[ $(cat "/proc/$p/comm") == connectd ]]
	done
}

# check_sandboxed SIDE: every worker p2pctl names runs sandboxed: no new
# privileges, a seccomp filter, and every uid and gid those of the worker user.
check_sandboxed() {
	local side=$1 n=0 p st
	for p in $(pids "$side"); do
		st=$(cat "/proc/$p/status")
		diag "$side worker $p: $(grep -E '^(Name|Uid|Gid|Groups|NoNewPrivs|Seccomp):' <<<"$st" |
			tr -s '\t\n' '  ')"
		[[ $(awk '$1 == "Name:" { print $2 }' <<<"$st") == connectd ]]
		[[ $(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$st") == 1 ]]
		[[ $(awk '$1 == "Seccomp:" { print $2 }' <<<"$st") == 2 ]]
		[[ $(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' <<<"$st") == \
			"$WORKER_UID $WORKER_UID $WORKER_UID $WORKER_UID" ]]
		[[ $(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' <<<"$st") == \
			"$WORKER_GID $WORKER_GID $WORKER_GID $WORKER_GID" ]]
		[[ $(awk '$1 == "Groups:" { print $2 }' <<<"$st") == "$WORKER_GID" ]]
		n=$((n + 1))
	done
	((n == 3))
}

# check_columns: after a transfer through the echo tunnel the byte counters
# of its initiator have grown by at least what was sent each way (the worker
# reports them once a second); every initiator shows an RTT; uptime counts.
check_columns() {
	local u=${UIDS[1]} in0 out0 up0 out i
	in0=$(field ini "$u" bytes_in)
	out0=$(field ini "$u" bytes_out)
	up0=$(field ini "$u" uptime_s)
	[[ -n $in0 && -n $out0 && -n $up0 ]]
	echo_ok # 20 connections x 100000 bytes, echoed
	wait_for 5 field_gt ini "$u" bytes_out $((out0 + 2000000 - 1))
	wait_for 5 field_gt ini "$u" bytes_in $((in0 + 2000000 - 1))
	wait_for 5 field_gt ini "$u" uptime_s "$up0"
	out=$(ctl ini status)
	diag "after the transfer:" "$out"
	[[ $(cell "$out" "$u" IN) -ge $((in0 + 2000000)) ]]
	[[ $(cell "$out" "$u" OUT) -ge $((out0 + 2000000)) ]]
	for i in 0 1 2; do
		[[ $(cell "$out" "${UIDS[i]}" RTT) =~ ^[0-9]+ms$ ]]
		[[ $(cell "$out" "${UIDS[i]}" UPTIME) =~ ^[0-9]+s$ ]]
		field_gt ini "${UIDS[i]}" rtt_ms -1
	done
}

# check_kill9: kill -9 the web initiator's worker; p2pd starts a new one
# (restart_min 1 s) that connects again; the other two keep their processes.
check_kill9() {
	local u=${UIDS[0]} old new others tgt_pids out
	old=$(field ini "$u" pid)
	others="$(field ini "${UIDS[1]}" pid) $(field ini "${UIDS[2]}" pid)"
	tgt_pids=$(pids tgt)
	[[ -n $old && $others =~ ^[0-9]+\ [0-9]+$ ]]
	kill -KILL "$old"
	wait_for 15 field_not ini "$u" pid "$old"
	wait_for 20 field_is ini "$u" detail connected
	new=$(field ini "$u" pid)
	diag "web initiator: pid $old killed, pid $new took over; the others kept $others"
	[[ $new =~ ^[0-9]+$ && $new != "$old" ]]
	if kill -0 "$old" 2>/dev/null; then
		diag "the killed worker $old still exists"
		return 1
	fi
	[[ "$(field ini "${UIDS[1]}" pid) $(field ini "${UIDS[2]}" pid)" == "$others" ]]
	[[ $(pids tgt) == "$tgt_pids" ]]
	out=$(ctl ini status)
	diag "after the kill:" "$out"
	[[ $(cell "$out" "$u" PID) == "$new" ]]
	# "1", or "1 (backoff 1s)": the delay the next restart would wait
	[[ $(cell "$out" "$u" RESTARTS) =~ ^1(\ \(backoff\ [0-9]+s\))?$ ]]
	[[ $(cell "$out" "$u" "LAST ERROR") == "killed by signal 9" ]]
	[[ $(cell "$out" "$u" STATE) == up:connected ]]
	[[ $(cell "$out" "$u" PATH) == direct ]]
	[[ $(cell "$out" "${UIDS[1]}" RESTARTS) == 0 ]]
	[[ $(cell "$out" "${UIDS[2]}" RESTARTS) == 0 ]]
	field_is ini "$u" restarts 1
	field_is ini "$u" last_error "killed by signal 9"
	# the new worker's uptime started again
	(($(field ini "$u" uptime_s) < $(field ini "${UIDS[1]}" uptime_s)))
}

# check_sigterm SIDE: SIGTERM ends p2pd with exit 0 and takes its workers along.
check_sigterm() {
	local side=$1 p left=""
	local -a ws
	mapfile -t ws < <(pids "$side")
	((${#ws[@]} == 3))
	kill_proc "p2pd$side" TERM
	expect_exit "p2pd$side" 0 8
	for p in "${ws[@]}"; do
		if kill -0 "$p" 2>/dev/null; then left="$left $p"; fi
	done
	[[ -z $left ]] || {
		diag "workers still running after p2pd exited:$left"
		return 1
	}
	[[ ! -e $E2E_TMP/$side/ctl.sock ]]
}

# no_sanitizer_reports: nothing in the logs from AddressSanitizer or
# UndefinedBehaviorSanitizer (for the sanitizer build; harmless otherwise).
no_sanitizer_reports() {
	local hits
	hits=$(grep -Ei 'runtime error|Sanitizer' "$LOGDIR"/*.log || true)
	[[ -z $hits ]] || {
		diag "$hits"
		return 1
	}
}

check_all_up() {
	ctl ini status >/dev/null
	ctl tgt status >/dev/null
}

show_status() {
	local out
	out=$(ctl "$1" status 2>&1) || true
	diag "p2pctl status, $2:" "$out"
}

sup_tunnels() {
	topo_two_nats masq masq
	p2p_rdv_conf
	p2p_start_rdv
	services
	write_files
	sup_start tgt "$NS_TGT"
	require "target side: the three targets register" wait_for 20 all_registered
	sup_start ini "$NS_INI"
	require "initiator side: the three tunnels come up" wait_for 30 all_connected
	check "initiator side: p2pd runs three connectd workers, the PIDs p2pctl reports" \
		check_three_workers ini
	check "target side: p2pd runs three connectd workers, the PIDs p2pctl reports" \
		check_three_workers tgt
	check "initiator side: p2pctl status: three rows up:connected, direct, peer $IP_NATT:*, exit 0" \
		check_table ini
	check "initiator side: p2pctl status --json parses and agrees with the table" check_json ini
	check "target side: the targets report their sessions" wait_for 10 tgt_connected
	check "target side: p2pctl status: three rows up:connected, direct, peer $IP_NATI:*, exit 0" \
		check_table tgt
	check "target side: p2pctl status --json parses and agrees with the table" check_json tgt
	check "web tunnel: a 5 MB file fetched with curl arrives intact (sha256)" p2p_fetch_sha "${LPORTS[0]}" "$E2E_TMP/www/blob"
	check "echo tunnel: 20 concurrent connections, each echoed intact" echo_ok
	check "answer tunnel: half-close, the full answer comes back" answer_ok
	check "initiator workers: NoNewPrivs 1, Seccomp 2, uid and gid of $WORKER_USER" \
		check_sandboxed ini
	check "target workers: NoNewPrivs 1, Seccomp 2, uid and gid of $WORKER_USER" \
		check_sandboxed tgt
	check "status columns: bytes in/out grow with a transfer, RTT and uptime shown" check_columns
	show_status ini "initiator side"
	show_status tgt "target side"
	check "kill -9 of an initiator worker: a new PID, restarts 1, the others untouched" \
		check_kill9
	check "the new worker carries traffic (curl sha256)" p2p_fetch_sha "${LPORTS[0]}" "$E2E_TMP/www/blob"
	check "and its bytes-in counter counts the 5 MB (reported within 5 s)" \
		wait_for 5 field_gt ini "${UIDS[0]}" bytes_in 4999999
	check "the new worker is sandboxed too" check_sandboxed ini
	check "initiator side: still three workers, the PIDs p2pctl reports" check_three_workers ini
	check "all six workers up (p2pctl status exits 0 on both sides)" check_all_up
	show_status ini "initiator side, after the kill"
	check "initiator side: SIGTERM, p2pd exits 0, its workers are gone" check_sigterm ini
	check "target side: SIGTERM, p2pd exits 0, its workers are gone" check_sigterm tgt
	check "no sanitizer report in any log" no_sanitizer_reports
}

scenario "p2pd runs three real tunnels" sup_tunnels
