# shellcheck shell=bash
#
# tests/bench/idle200.sh: what 200 idle initiators cost under one p2pd.
#
# One p2pd in the "tgt" namespace runs 200 target workers (one provisioning
# file each, every one exposing an echo server), a second p2pd in the "ini"
# namespace runs 200 autoconnect 2 initiators for them (127.0.0.1:34000 and
# up), all against a rendezvousd of their own (203.0.113.1:5970) whose file
# lists the 200 devices and one user allowed to reach them all, with
# rate_limit raised so that 400 workers logging in within a second from two
# addresses are not turned away. Both p2pd run as root with worker_user
# nobody, as in production. Once every initiator reports up:connected (and a
# transfer through the first and the last tunnel works), nothing touches
# them for BENCH_IDLE_SECS seconds (default 30), and at both ends of that
# window the run reads, for each p2pd and every one of its children:
#
#   CPU     /proc/PID/schedstat (nanoseconds on a CPU; /proc/PID/stat's
#           utime+stime in clock ticks as well, for kernels without it)
#   memory  VmRSS and RssAnon of /proc/PID/status, Pss of smaps_rollup
#
# The target of the issue: under 1% of one core for all 200 idle initiators;
# run.sh's table shows it with the whole initiator side counted (p2pd and its
# 200 workers). docs/BENCH.md explains the rows.
#
# Used two ways:
#   sourced by tests/bench/run.sh, which calls bench_idle200 inside
#   `scenario` on its own topology and adds the rows to its table;
#   run on its own (root): bash tests/bench/idle200.sh, which builds the same
#   topology, measures, and prints just these rows.
#
# Environment: BENCH_IDLE_N (workers per side, default 200, at most 1000),
# BENCH_IDLE_SECS (the idle window, default 30, 5 to 600).

IDLE_N=${BENCH_IDLE_N:-200}
IDLE_SECS=${BENCH_IDLE_SECS:-30}
IDLE_RDV_PORT=5970
IDLE_PORT0=34000
IDLE_ECHO_PORT=7300
IDLE_USER=idle@example.com
IDLE_PASS=idle-bench-password
IDLE_NOFILE=8192 # p2pd holds two pipes per worker

# idle_check_env: BENCH_IDLE_N and BENCH_IDLE_SECS are sane.
idle_check_env() {
	if [[ ! $IDLE_N =~ ^[0-9]{1,4}$ ]] || ((10#$IDLE_N < 1 || 10#$IDLE_N > 1000)); then
		fail "BENCH_IDLE_N is '$IDLE_N'; want a whole number of workers from 1 to 1000"
		return 1
	fi
	if [[ ! $IDLE_SECS =~ ^[0-9]{1,3}$ ]] || ((10#$IDLE_SECS < 5 || 10#$IDLE_SECS > 600)); then
		fail "BENCH_IDLE_SECS is '$IDLE_SECS'; want a whole number of seconds from 5 to 600"
		return 1
	fi
	IDLE_N=$((10#$IDLE_N))
	IDLE_SECS=$((10#$IDLE_SECS))
}

# idle_uid I: the UID of device I (0-based).
idle_uid() {
	printf '80:00:00:00:05:00:%02X:%02X\n' $(($1 / 256)) $(($1 % 256))
}

# idle_files DIR: rendezvousd.conf, both p2pd.conf and the 2 x N provisioning
# files under DIR.
idle_files() {
	local d=$1 i uid hash side
	mkdir -p "$d/tgt/conf.d" "$d/ini/conf.d"
	hash=$("$CONNECTD" --hash "$IDLE_USER" "$IDLE_PASS")
	{
		echo "[server]"
		echo "listen = $IP_RDV:$IDLE_RDV_PORT"
		echo "alt_port = 0"
		echo "rate_limit = 1000000"
		echo
		echo "[user $IDLE_USER]"
		echo "auth_hash = $hash"
		echo "allow = *"
		for ((i = 0; i < IDLE_N; i++)); do
			echo
			echo "[device $(idle_uid "$i")]"
			echo "secret = idle-secret-$i"
		done
	} >"$d/rdv.conf"
	for side in tgt ini; do
		cat >"$d/$side/p2pd.conf" <<EOF
[supervisor]
conf_dir = $d/$side/conf.d
control_socket = $d/$side/ctl.sock
control_group = root
worker_user = nobody
worker_binary = $CONNECTD
server = $IP_RDV:$IDLE_RDV_PORT
restart_min = 1
restart_max = 30
log_level = warn
EOF
	done
	for ((i = 0; i < IDLE_N; i++)); do
		uid=$(idle_uid "$i")
		printf 'autoconnect 2\nUID %s\nsecret idle-secret-%d\nproxy_dest_port %d\n' \
			"$uid" "$i" "$IDLE_ECHO_PORT" >"$d/tgt/conf.d/t$i.conf"
		printf 'autoconnect 2\nuser_id %s\nauth_hash %s\nremote_address %s\nproxy_local_port %d\n' \
			"$IDLE_USER" "$hash" "$uid" $((IDLE_PORT0 + i)) >"$d/ini/conf.d/i$i.conf"
	done
	chmod 600 "$d/rdv.conf" "$d"/tgt/conf.d/*.conf "$d"/ini/conf.d/*.conf
}

# idle_count SIDE: "WORKERS UP DETAIL=N... RESTARTS" of that side's p2pd.
idle_count() {
	local out
	out=$("$P2PCTL" -s "$IDLE_DIR/$1/ctl.sock" status --json 2>/dev/null) || true
	python3 -c '
import collections, json, sys
try:
    ws = json.loads(sys.stdin.read())["workers"]
except ValueError:
    print("0 0 none 0")
    sys.exit(0)
up = sum(1 for w in ws if w["state"] == "up")
det = collections.Counter(w["detail"] or "-" for w in ws if w["state"] == "up")
print(len(ws), up, ",".join("%s=%d" % kv for kv in sorted(det.items())) or "none",
      sum(w["restarts"] or 0 for w in ws))' <<<"$out"
}

# idle_wait SIDE DETAIL TIMEOUT_S: wait until all N workers of SIDE are
# up:DETAIL; says how far it got if they are not.
idle_wait() {
	local side=$1 want=$2 t=$3 deadline c
	deadline=$(($(_e2e_now_ms) + t * 1000))
	while :; do
		c=$(idle_count "$side")
		if [[ $c == "$IDLE_N $IDLE_N $want=$IDLE_N "* ]]; then
			return 0
		fi
		if (($(_e2e_now_ms) > deadline)); then
			diag "idle200: $side side not all up:$want after $t s: workers, up, states, restarts: $c"
			return 1
		fi
		sleep 0.5
	done
}

# The sampler: reads /proc for a set of processes, twice, SECS apart.
# Arguments: SECS then LABEL=PID...; a LABEL ending in "+" also takes every
# child of PID. Prints "KEY VALUE" lines for run.sh's results file.
IDLE_SAMPLER='
import os, sys, time

CLK = os.sysconf("SC_CLK_TCK")


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        if int(s[s.rindex(")") + 2:].split()[1]) == pid:
            out.append(int(d))
    return sorted(out)


def cpu(pid):
    """(nanoseconds on a CPU from schedstat or None, utime+stime ticks)"""
    ns = None
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            ns = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    f_ = s[s.rindex(")") + 2:].split()
    return ns, int(f_[11]) + int(f_[12])


def mem(pid):
    """VmRSS, RssAnon, Pss in kB, and context switches (voluntary +
    involuntary: how often the process went to sleep or was preempted)"""
    r = {"VmRSS:": 0, "RssAnon:": 0, "Pss:": 0, "voluntary_ctxt_switches:": 0,
         "nonvoluntary_ctxt_switches:": 0}
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            k = l.split(None, 1)[0] if l.strip() else ""
            if k in r:
                r[k] = int(l.split()[1])
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for l in f:
                if l.startswith("Pss:"):
                    r["Pss:"] = int(l.split()[1])
    except OSError:
        pass
    return (r["VmRSS:"], r["RssAnon:"], r["Pss:"],
            r["voluntary_ctxt_switches:"] + r["nonvoluntary_ctxt_switches:"])


def snap(groups):
    t = time.monotonic_ns()
    out = {}
    for label, (pid, kids) in groups.items():
        out[label] = {}
        for p in [pid] + (children(pid) if kids else []):
            try:
                out[label][p] = (cpu(p), mem(p))
            except OSError:
                pass
    return t, out


def main():
    secs = float(sys.argv[1])
    groups = {}
    for a in sys.argv[2:]:
        label, pid = a.split("=")
        groups[label.rstrip("+")] = (int(pid), label.endswith("+"))
    t0, s0 = snap(groups)
    time.sleep(secs)
    t1, s1 = snap(groups)
    wall = (t1 - t0) / 1e9
    print("idle_window_s %.2f" % wall)
    for label, (pid, kids) in groups.items():
        a, b = s0[label], s1[label]
        for part, pids in (("self", [pid]), ("kids", [p for p in a if p != pid])):
            if part == "kids" and not kids:
                continue
            both = [p for p in pids if p in b]
            ns_ok = all(a[p][0][0] is not None and b[p][0][0] is not None for p in both)
            ns = sum(b[p][0][0] - a[p][0][0] for p in both) if ns_ok else None
            ticks = sum(b[p][0][1] - a[p][0][1] for p in both)
            key = "idle_%s_%s" % (label, part)
            print("%s_n %d" % (key, len(pids)))
            print("%s_gone %d" % (key, len(pids) - len(both)))
            if ns is not None:
                print("%s_cpu_pct %.4f" % (key, ns / 1e9 / wall * 100))
            print("%s_ticks_pct %.4f" % (key, ticks / CLK / wall * 100))
            sw = sum(b[p][1][3] - a[p][1][3] for p in both)
            print("%s_switches_per_s %.2f" % (key, sw / wall))
            for i, name in enumerate(("rss", "anon", "pss")):
                print("%s_%s_kb %d" % (key, name, sum(a[p][1][i] for p in pids)))
        new = [p for p in b if p not in a] if kids else []
        if kids:
            print("idle_%s_kids_new %d" % (label, len(new)))


main()
'

# idle_echo PORT: a few connections through one initiator, each echoed intact.
idle_echo() {
	local out
	out=$(nsx "$NS_INI" python3 "$E2E_DIR/tcptool.py" concurrent "$1" 4 20000 2>&1) || {
		diag "idle200: echo through 127.0.0.1:$1 failed:" "$out"
		return 1
	}
}

# bench_idle200: the measurement (inside `scenario`, on a topology with
# $NS_RDV, $NS_INI, $NS_TGT and $IP_RDV). Records idle_* results.
bench_idle200() {
	local t0 c last=$((IDLE_N - 1)) cur hard
	IDLE_DIR=$E2E_TMP/idle
	idle_check_env
	hard=$(ulimit -Hn)
	cur=$(ulimit -Sn)
	if [[ $cur != unlimited ]] && ((cur < IDLE_NOFILE)); then
		if [[ $hard == unlimited ]] || ((hard >= IDLE_NOFILE)); then
			ulimit -Sn "$IDLE_NOFILE"
		else
			ulimit -Sn "$hard"
		fi
	fi
	res idle_n "$IDLE_N"
	res idle_secs "$IDLE_SECS"
	res idle_nofile "$(ulimit -Sn)"
	idle_files "$IDLE_DIR"
	spawn "$NS_RDV" idlerdv "$RENDEZVOUSD" -c "$IDLE_DIR/rdv.conf"
	wait_log idlerdv 'listening on TCP' 10
	spawn "$NS_TGT" idleecho python3 "$E2E_DIR/tcptool.py" echo "$IDLE_ECHO_PORT"
	wait_port "$NS_TGT" 127.0.0.1 "$IDLE_ECHO_PORT" 10 idleecho

	t0=$(_e2e_now_ms)
	spawn "$NS_TGT" idletgt "$P2PD" -c "$IDLE_DIR/tgt/p2pd.conf"
	idle_wait tgt registered 60
	res idle_tgt_start_ms $(($(_e2e_now_ms) - t0))
	say "idle200: $IDLE_N targets registered in $(($(_e2e_now_ms) - t0)) ms"
	t0=$(_e2e_now_ms)
	spawn "$NS_INI" idleini "$P2PD" -c "$IDLE_DIR/ini/p2pd.conf"
	idle_wait ini connected 90
	res idle_ini_start_ms $(($(_e2e_now_ms) - t0))
	say "idle200: $IDLE_N initiators connected in $(($(_e2e_now_ms) - t0)) ms"
	idle_echo "$IDLE_PORT0"
	idle_echo $((IDLE_PORT0 + last))
	say "idle200: the first and the last tunnel carry data; idle for $IDLE_SECS s"

	# Every tunnel up and idle: measure, touching nothing meanwhile.
	python3 -c "$IDLE_SAMPLER" "$IDLE_SECS" "ini+=$(pid_of idleini)" \
		"tgt+=$(pid_of idletgt)" "rdv=$(pid_of idlerdv)" >"$E2E_TMP/idle.out"
	cat "$E2E_TMP/idle.out" >>"$RES"

	c=$(idle_count ini)
	res idle_ini_end "${c// /_}"
	say "idle200: after the window, initiator side (workers, up, states, restarts): $c"
	c=$(idle_count tgt)
	res idle_tgt_end "${c// /_}"
	say "idle200: after the window, target side (workers, up, states, restarts): $c"
	say "idle200: $(grep -E '_cpu_pct|_ticks_pct' "$E2E_TMP/idle.out" | tr '\n' ' ')"
}

# On its own: build the topology, measure, print these rows.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	# shellcheck source=tests/e2e/lib.sh
	. "$BENCH_DIR/../e2e/lib.sh"
	need_bin rendezvousd connectd p2pd p2pctl
	need_cmd python3
	RES=$E2E_TMP/results
	OUT=$BIN/bench
	mkdir -p "$OUT"
	: >"$RES"
	res() { printf '%s %s\n' "$1" "$2" >>"$RES"; }
	say() { printf '# bench: %s\n' "$*"; }
	idle_check_env || exit 1
	topo_two_nats none none
	res cpus "$(nproc)"
	res kernel "$(uname -r)"
	res loadavg "$(cut -d' ' -f1-3 /proc/loadavg)"
	scenario "$IDLE_N idle initiators under one p2pd, $IDLE_SECS s" bench_idle200
	python3 "$BENCH_DIR/report.py" --idle-only "$RES" | tee "$OUT/idle200.txt"
	cp -f "$RES" "$OUT/idle200-results.txt"
fi
