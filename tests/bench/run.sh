#!/usr/bin/env bash
#
# tests/bench/run.sh: `make bench`. Measures p2pd and the tools it is compared
# with, in one run on one path, and prints one table at the end (docs/BENCH.md
# says how to read it). Not a test: nothing here passes or fails on timing; the
# targets in the table's last column are reported, never enforced.
#
# The path: two network namespaces, "ini" (203.0.113.10) and "tgt"
# (203.0.113.20), each with a veth into one bridge (lib.sh's topo_two_nats
# none none: no NAT, no added delay), with rendezvousd at 203.0.113.1 on the
# same bridge. Every transfer is one iperf3 TCP stream from the ini namespace
# to an iperf3 server in the tgt namespace, BENCH_SECS seconds long:
#
#   direct      iperf3 straight to 203.0.113.20 (no tunnel)
#   mode 0/2/3  a p2pd target exposing 127.0.0.1:5201 in tgt, an initiator
#               serving it on 127.0.0.1:33000 in ini, in encryption mode 0, 2, 3
#   kcptun      kcptun-client/kcptun-server, --crypt xtea --nocomp, no FEC,
#               --sndwnd/--rcvwnd 12 (p2pd's max_depth), --mtu 1200 (p2pd's mtu)
#   ssh         ssh -L with -c chacha20-poly1305@openssh.com to an sshd in tgt
#   loss        mode 2 again with 5% of the UDP packets dropped both ways on
#               the initiator's link (lib.sh's loss)
#
# and besides: one core's XXTEA and mode 2 seal rate (tests/bench/cryptobench.c),
# the time from starting an initiator to "Proxy started." (median of
# BENCH_STARTUP_RUNS, tests/bench/startup.py), the resident memory of initiator
# and target idle and under load, and, when perf(1) works, where connectd
# spends its time during a mode 2 transfer. Last, what 200 idle initiators
# cost under one p2pd (CPU over 30 s, resident memory of p2pd and of its
# workers), against 200 targets under a second p2pd (tests/bench/idle200.sh).
# Then two more topologies (bench_relays): mode 2 on a direct path through two
# NATs (masq/masq), and modes 2 and 3 relayed through rendezvousd (sym/sym),
# with its relay limits raised and, for mode 2 once more, at their defaults.
#
# Environment: BUILD (default build), BENCH_SECS (seconds per transfer,
# default 10), BENCH_STARTUP_RUNS (default 9), BENCH_PERF (1 to profile,
# 0 not to; default 1 when perf is installed), BENCH_IDLE_N (idle initiators,
# default 200), BENCH_IDLE_SECS (their idle window, default 30),
# BENCH_VERBOSE=1 (show every process start), E2E_KEEP=1 (keep the logs).
# The table and the raw results are also written to $BUILD/bench/table.txt
# and $BUILD/bench/results.txt.
#
# Needs root (namespaces, nftables), iperf3, python3; kcptun and ssh/sshd are
# measured when installed ("not installed" in the table otherwise).
# `sh scripts/deps.sh install-bench` installs them. Exit status: 0 if every
# measurement was made, 1 if one could not be (the table is printed anyway).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$BENCH_DIR/../e2e/lib.sh"
# shellcheck source=tests/e2e/p2plib.sh
. "$BENCH_DIR/../e2e/p2plib.sh"
# shellcheck source=tests/bench/idle200.sh
. "$BENCH_DIR/idle200.sh"

need_bin rendezvousd connectd p2pd p2pctl
need_cmd iperf3 python3

SECS=${BENCH_SECS:-10}
RUNS=${BENCH_STARTUP_RUNS:-9}
if [[ ! $SECS =~ ^[0-9]{1,3}$ ]] || ((10#$SECS < 1 || 10#$SECS > 120)); then
	fail "BENCH_SECS is '$SECS'; want a whole number of seconds from 1 to 120"
	exit 1
fi
if [[ ! $RUNS =~ ^[0-9]{1,3}$ ]] || ((10#$RUNS < 1 || 10#$RUNS > 100)); then
	fail "BENCH_STARTUP_RUNS is '$RUNS'; want a whole number from 1 to 100"
	exit 1
fi
SECS=$((10#$SECS))
RUNS=$((10#$RUNS))
idle_check_env || exit 1
if [[ -z ${BENCH_PERF:-} ]]; then
	BENCH_PERF=0
	command -v perf >/dev/null 2>&1 && BENCH_PERF=1
fi
WINDOW=12 # p2pd's default max_depth, packets per stream
DEEP=64   # the larger max_depth of the bench_depth rows
KCP_MTU=1200
IPERF_PORT=5201
LOCAL_PORT=33000
KCP_PORT=29900
SSH_PORT=2222
LOSS_PCT=5
PERF_SECS=5
RELAY_PUNCH=2         # punch_timeout of the relay rows: seconds before the fallback
RELAY_RATE=1000000000 # relay_rate and relay_total when raised: 1 GB/s
RES=$E2E_TMP/results
OUT=$BIN/bench
CLK_TCK=$(getconf CLK_TCK)
: >"$RES"
mkdir -p "$OUT"

# Keep the harness's per-process chatter out of the way unless asked for;
# errors and diagnostics still show.
eval "_lib_$(declare -f diag)"
diag() {
	if [[ ${BENCH_VERBOSE:-0} != 1 && ${1:-} =~ ^(spawned|scenario:) ]]; then
		return 0
	fi
	_lib_diag "$@"
}

# res KEY VALUE: record one result.
res() {
	printf '%s %s\n' "$1" "$2" >>"$RES"
}

say() {
	printf '# bench: %s\n' "$*"
}

# --- /proc readers -----------------------------------------------------------

proc_kb() { # proc_kb PID FIELD: a "FIELD: N kB" line of /proc/PID/status
	awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' \
		"/proc/$1/status" 2>/dev/null || echo 0
}

proc_ticks() { # proc_ticks PID: user + system CPU time in clock ticks
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
		echo 0
		return 0
	}
	stat=${stat##*) }
	# shellcheck disable=SC2086 # fields on purpose; utime, stime are 14, 15
	set -- $stat
	echo $((${12} + ${13}))
}

host_busy() { # host_busy: "BUSY TOTAL" jiffies of all CPUs (busy: not idle, not iowait)
	local _ user nice sys idle iow irq sirq steal
	read -r _ user nice sys idle iow irq sirq steal _ </proc/stat
	echo "$((user + nice + sys + irq + sirq + steal)) $((user + nice + sys + idle + iow + irq + sirq + steal))"
}

# rss_idle TAG NAME...: VmRSS and RssAnon (kB) of each named process, now.
rss_idle() {
	local tag=$1 n p
	shift
	for n in "$@"; do
		p=$(pid_of "$n")
		res "${tag}_rss_${n}_idle" "$(proc_kb "$p" VmRSS)"
		res "${tag}_anon_${n}_idle" "$(proc_kb "$p" RssAnon)"
	done
}

# iperf TAG HOST PORT [NAME...]: one iperf3 TCP stream of SECS seconds from
# the ini namespace to HOST:PORT. Records TAG_mbps (the receiver's goodput),
# and for each named process (spawned) its peak VmRSS and RssAnon during the
# transfer and its CPU use in percent of one core; TAG_host_busy is how busy
# all the machine's CPUs were together, in percent.
iperf() {
	local tag=$1 host=$2 port=$3 json=$E2E_TMP/iperf-$1.json ipid rc=0 n p
	shift 3
	local -A t0 rss anon pid
	local w0 w1 v h0 h1
	for n in "$@"; do
		pid[$n]=$(pid_of "$n")
		t0[$n]=$(proc_ticks "${pid[$n]}")
		rss[$n]=0
		anon[$n]=0
	done
	w0=$(_e2e_now_ms)
	h0=$(host_busy)
	nsx "$NS_INI" timeout $((SECS + 30)) iperf3 -c "$host" -p "$port" -t "$SECS" -J \
		--connect-timeout 5000 >"$json" 2>"$json.err" &
	ipid=$!
	while kill -0 "$ipid" 2>/dev/null; do
		for n in "$@"; do
			v=$(proc_kb "${pid[$n]}" VmRSS)
			((v > rss[$n])) && rss[$n]=$v
			v=$(proc_kb "${pid[$n]}" RssAnon)
			((v > anon[$n])) && anon[$n]=$v
		done
		sleep 0.25
	done
	wait "$ipid" || rc=$?
	w1=$(_e2e_now_ms)
	h1=$(host_busy)
	res "${tag}_host_busy" "$(((${h1% *} - ${h0% *}) * 100 / (${h1#* } - ${h0#* } + 1)))"
	for n in "$@"; do
		p=${pid[$n]}
		res "${tag}_rss_${n}_load" "${rss[$n]}"
		res "${tag}_anon_${n}_load" "${anon[$n]}"
		res "${tag}_cpu_${n}" "$(((($(proc_ticks "$p") - t0[$n]) * 100000 / CLK_TCK) / (w1 - w0)))"
	done
	v=$(python3 - "$json" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
    if "error" in d:
        sys.exit("iperf3: " + d["error"])
    print("%.1f" % (d["end"]["sum_received"]["bits_per_second"] / 1e6))
except (OSError, ValueError, KeyError) as e:
    sys.exit("cannot read iperf3's result: %s" % e)
EOF
	) || {
		diag "iperf3 to $host:$port (exit status $rc) gave no result:" "$(head -c 2000 "$json")" \
			"$(cat "$json.err")"
		return 1
	}
	res "${tag}_mbps" "$v"
	say "$tag: $v Mbit/s"
}

iperf_server() { # iperf_server NAME ADDR: an iperf3 server in tgt
	spawn "$NS_TGT" "$1" iperf3 -s -B "$2" -p "$IPERF_PORT"
	wait_port "$NS_TGT" "$2" "$IPERF_PORT" 10 "$1"
}

# --- the measurements (each runs inside `scenario`, which stops what it
# started when it ends) ---------------------------------------------------------

bench_direct() {
	iperf_server srv "$IP_TGT"
	iperf direct "$IP_TGT" "$IPERF_PORT"
}

bench_mode() { # bench_mode MODE
	local m=$1
	iperf_server srv 127.0.0.1
	p2p_pair 1 "m$m" "$IPERF_PORT" "$LOCAL_PORT" "$m"
	rss_idle "m$m" "im$m" "tm$m"
	iperf "m$m" 127.0.0.1 "$LOCAL_PORT" "im$m" "tm$m"
}

# bench_depth MODE DEPTH: bench_mode with max_depth DEPTH on both ends instead
# of the default 12 (the initiator's bounds what it sends, the target's what it
# buffers), to show what the default window costs on this path.
bench_depth() {
	local m=$1 d=$2 tag="m${1}d${2}"
	iperf_server srv 127.0.0.1
	p2p_pair 1 "$tag" "$IPERF_PORT" "$LOCAL_PORT" "$m" "max_depth $d" "t:max_depth $d"
	iperf "$tag" 127.0.0.1 "$LOCAL_PORT" "i$tag" "t$tag"
}

bench_loss() {
	iperf_server srv 127.0.0.1
	p2p_pair 1 loss "$IPERF_PORT" "$LOCAL_PORT" 2
	loss "$NS_INI" "$IF_INI" "$LOSS_PCT"
	iperf loss 127.0.0.1 "$LOCAL_PORT" iloss tloss
	loss "$NS_INI" "$IF_INI" 0
}

bench_kcptun() {
	local key opts
	key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	opts=(--key "$key" --crypt xtea --nocomp --datashard 0 --parityshard 0
		--sndwnd "$WINDOW" --rcvwnd "$WINDOW" --mtu "$KCP_MTU" --quiet)
	iperf_server srv 127.0.0.1
	spawn "$NS_TGT" kcps kcptun-server -l "$IP_TGT:$KCP_PORT" -t "127.0.0.1:$IPERF_PORT" "${opts[@]}"
	wait_udp "$NS_TGT" "$IP_TGT" "$KCP_PORT" 10 kcps
	spawn "$NS_INI" kcpc kcptun-client -l "127.0.0.1:$LOCAL_PORT" -r "$IP_TGT:$KCP_PORT" "${opts[@]}"
	wait_port "$NS_INI" 127.0.0.1 "$LOCAL_PORT" 10 kcpc
	iperf kcptun 127.0.0.1 "$LOCAL_PORT" kcpc kcps
}

bench_ssh() {
	local d=$E2E_TMP/ssh
	mkdir -p "$d" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$d/user_key"
	cp "$d/user_key.pub" "$d/authorized_keys"
	cat >"$d/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress $IP_TGT
HostKey $d/host_key
PidFile none
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Ciphers chacha20-poly1305@openssh.com
CONF
	iperf_server srv 127.0.0.1
	spawn "$NS_TGT" sshd /usr/sbin/sshd -D -e -f "$d/sshd_config"
	wait_port "$NS_TGT" "$IP_TGT" "$SSH_PORT" 10 sshd
	spawn "$NS_INI" sshc ssh -N -o ExitOnForwardFailure=yes -c chacha20-poly1305@openssh.com \
		-o Compression=no -i "$d/user_key" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
		-L "127.0.0.1:$LOCAL_PORT:127.0.0.1:$IPERF_PORT" -p "$SSH_PORT" "root@$IP_TGT"
	wait_port "$NS_INI" 127.0.0.1 "$LOCAL_PORT" 10 sshc
	iperf ssh 127.0.0.1 "$LOCAL_PORT" sshc
}

bench_startup() {
	local out=$E2E_TMP/startup.out
	p2p_target_conf "$E2E_TMP/tstart.conf" "proxy_dest_port $IPERF_PORT"
	p2p_initiator_conf "$E2E_TMP/istart.conf" "proxy_local_port $LOCAL_PORT" "encryption 2"
	spawn "$NS_TGT" tstart "$CONNECTD" -s -f "$E2E_TMP/tstart.conf"
	wait_log tstart '^!!status registered' 10
	nsx "$NS_INI" python3 "$BENCH_DIR/startup.py" "$RUNS" 10 \
		"$CONNECTD" -s -f "$E2E_TMP/istart.conf" >"$out"
	read -r _ runs med min max < <(grep '^startup ' "$out")
	res start_runs "${runs#runs=}"
	res start_median "${med#median_ms=}"
	res start_min "${min#min_ms=}"
	res start_max "${max#max_ms=}"
	say "start to 'Proxy started.': median ${med#median_ms=} ms of ${runs#runs=} runs (${min#min_ms=} .. ${max#max_ms=})"
}

bench_crypto() {
	local exe=$OUT/cryptobench cc=${CC:-cc} k v
	local -a flags
	# shellcheck disable=SC2207 # pkg-config output is a word list
	flags=($(pkg-config --cflags --libs libsodium))
	# the Makefile's language level, warnings and optimisation
	"$cc" -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
		-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -fno-strict-aliasing \
		-I"$E2E_ROOT" -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
		-o "$exe" "$BENCH_DIR/cryptobench.c" "$BIN/lib/libworker.a" "$BIN/lib/libcommon.a" \
		"${flags[@]}" -lm
	"$exe" >"$E2E_TMP/crypto.out"
	while read -r k _ _ _ v; do
		res "crypto_$k" "${v#mbps=}"
	done <"$E2E_TMP/crypto.out"
	say "one core: $(tr '\n' ' ' <"$E2E_TMP/crypto.out" | sed -E 's/ bytes=[0-9]+ ops=[0-9]+ ns=[0-9]+ mbps=/ /g') (Mbit/s)"
}

# Where connectd spends its time during a mode 2 transfer (perf record on
# both ends, flat profile). Printed after the table; not part of it.
bench_perf() {
	local n p ipid
	local -a waits=()
	iperf_server srv 127.0.0.1
	p2p_pair 1 perf "$IPERF_PORT" "$LOCAL_PORT" 2
	nsx "$NS_INI" timeout $((PERF_SECS + 30)) iperf3 -c 127.0.0.1 -p "$LOCAL_PORT" \
		-t $((PERF_SECS + 2)) >/dev/null 2>&1 &
	ipid=$!
	sleep 1 # past iperf3's connection set-up, into the steady transfer
	for n in iperf tperf; do
		p=$(pid_of "$n")
		perf record -q -F 1999 -p "$p" -o "$E2E_TMP/perf-$n.data" -- sleep "$PERF_SECS" \
			>/dev/null 2>&1 &
		waits+=($!)
	done
	wait "${waits[@]}" "$ipid" || true
	for n in iperf tperf; do
		if [[ $n == iperf ]]; then
			echo "-- initiator (sending): share of its CPU samples per object, then top symbols"
		else
			echo "-- target (receiving): share of its CPU samples per object, then top symbols"
		fi
		if [[ ! -s $E2E_TMP/perf-$n.data ]]; then
			echo "   (perf record wrote nothing: is perf_event_paranoid too strict?)"
			continue
		fi
		perf report -q -i "$E2E_TMP/perf-$n.data" --stdio --no-children --sort dso -g none \
			--percent-limit 1 2>/dev/null | sed '/^$/d' | head -n 6
		perf report -q -i "$E2E_TMP/perf-$n.data" --stdio --no-children --sort dso,sym \
			-g none --percent-limit 1 2>/dev/null | sed '/^$/d' | head -n 12
	done >"$E2E_TMP/profile.txt"
}

# --- relay: the tunnel carried through rendezvousd ------------------------------
#
# After the rows above the run builds two more topologies (e2e_teardown, then
# topo_two_nats): masq/masq, where punching works and the tunnel is direct, and
# sym/sym, where it cannot and the tunnel falls back to rendezvousd's relay
# (docs/PROTOCOL.md section 9). Each scenario starts its own rendezvousd with
# relay_rate and relay_total raised to RELAY_RATE bytes/s, or at their defaults
# (10 MB/s per session, 100 MB/s in all) for the "default limits" row. The
# path each tunnel took is read from the initiator's "!!path" line before
# anything is measured, and recorded with the result.

# relay_pair NAME MODE: a target and an initiator (punch_timeout RELAY_PUNCH)
# as p2p_pair makes them; records NAME_path (relay or direct) from the
# initiator's "!!path" line and NAME_relaying (1 when rendezvousd logged that
# it relays the session).
relay_pair() {
	local name=$1 m=$2 path
	p2p_target_conf "$E2E_TMP/t$name.conf" "proxy_dest_port $IPERF_PORT" "punch_timeout $RELAY_PUNCH"
	p2p_initiator_conf "$E2E_TMP/i$name.conf" "proxy_local_port $LOCAL_PORT" "encryption $m" \
		"punch_timeout $RELAY_PUNCH"
	spawn "$NS_TGT" "t$name" "$CONNECTD" -s -f "$E2E_TMP/t$name.conf"
	wait_log "t$name" '^!!status registered' 10
	spawn "$NS_INI" "i$name" "$CONNECTD" -s -f "$E2E_TMP/i$name.conf"
	wait_log "i$name" '^Proxy started\.' $((RELAY_PUNCH + 15))
	path=$(sed -n 's/^!!path \([a-z]*\) .*/\1/p' "$(log_of "i$name")" | tail -n 1)
	res "${name}_path" "${path:-unknown}"
	if grep -q "relaying session [0-9a-f]* $P2P_USER <-> $P2P_UID" "$(log_of rdv)"; then
		res "${name}_relaying" 1
	else
		res "${name}_relaying" 0
	fi
	say "$name: the initiator's path is ${path:-unknown}"
}

# bench_relay NAME MODE WANT [RDV LINES...]: rendezvousd (with the lines),
# a pair in MODE whose path must be WANT, then one iperf3 transfer; the CPU of
# rendezvousd is measured with the two connectd.
bench_relay() {
	local name=$1 m=$2 want=$3 got
	shift 3
	p2p_rdv_conf "$@"
	p2p_start_rdv rdv
	iperf_server srv 127.0.0.1
	relay_pair "$name" "$m"
	got=$(sed -n "s/^${name}_path //p" "$RES" | tail -n 1)
	if [[ $got != "$want" ]]; then
		diag "$name: the initiator's path is '$got', not $want; not measured"
		return 1
	fi
	iperf "$name" 127.0.0.1 "$LOCAL_PORT" "i$name" "t$name" rdv
	rdv_counters "$name"
}

# rdv_counters NAME: stop rendezvousd and record what its exit line says it
# relayed: NAME_rdv_bytes (RELAYED bytes sent), NAME_rdv_over_rate and
# NAME_rdv_over_total (RELAYs dropped over relay_rate, over relay_total).
rdv_counters() {
	local name=$1 line
	stop_proc rdv 5
	line=$(grep 'relay: forwarded' "$(log_of rdv)" | tail -n 1)
	[[ $line =~ forwarded\ [0-9]+\ \(([0-9]+)\ bytes\).*over\ relay_rate\ ([0-9]+),\ over\ relay_total\ ([0-9]+) ]] || {
		diag "$name: no relay counters in rendezvousd's log"
		return 0
	}
	res "${name}_rdv_bytes" "${BASH_REMATCH[1]}"
	res "${name}_rdv_over_rate" "${BASH_REMATCH[2]}"
	res "${name}_rdv_over_total" "${BASH_REMATCH[3]}"
}

bench_relays() {
	local raised=("relay_rate = $RELAY_RATE" "relay_total = $RELAY_RATE")
	e2e_teardown
	if ! topo_two_nats masq masq; then
		fail "the masq/masq topology could not be built; no relay rows"
		return 0
	fi
	scenario "iperf3 through p2pd, mode 2, direct path through two NATs (masq/masq)" \
		bench_relay nd2 2 direct "${raised[@]}"
	e2e_teardown
	if ! topo_two_nats sym sym; then
		fail "the sym/sym topology could not be built; no relay rows"
		return 0
	fi
	scenario "iperf3 through p2pd, mode 2, relayed (sym/sym), limits raised" \
		bench_relay rl2 2 relay "${raised[@]}"
	scenario "iperf3 through p2pd, mode 3, relayed (sym/sym), limits raised" \
		bench_relay rl3 3 relay "${raised[@]}"
	scenario "iperf3 through p2pd, mode 2, relayed (sym/sym), default limits" \
		bench_relay rd2 2 relay
}

# --- the run -----------------------------------------------------------------

say "path: namespaces ini $(ns ini) and tgt $(ns tgt), veths on one bridge, no NAT, no added delay"
say "$(nproc) CPUs; iperf3 TCP, 1 stream, ${SECS} s each, ini -> tgt"
topo_two_nats none none
p2p_accounts
# shellcheck disable=SC2119 # no arguments: the standard configuration
p2p_rdv_conf
# shellcheck disable=SC2119
p2p_start_rdv

res secs "$SECS"
res deep "$DEEP"
res loss_pct "$LOSS_PCT"
res relay_rate "$RELAY_RATE"
res cpus "$(nproc)"
res kernel "$(uname -r)"
res loadavg "$(cut -d' ' -f1-3 /proc/loadavg)"
res connectd_version "$("$CONNECTD" --version 2>&1 | head -n 1)"

scenario "crypto: one core's XXTEA and mode 2 seal rate" bench_crypto
scenario "iperf3 direct TCP, no tunnel" bench_direct
for m in 0 2 3; do
	scenario "iperf3 through p2pd, mode $m" bench_mode "$m"
done
for m in 2 3; do
	scenario "iperf3 through p2pd, mode $m, max_depth $DEEP" bench_depth "$m" "$DEEP"
done
if command -v kcptun-client >/dev/null 2>&1 && command -v kcptun-server >/dev/null 2>&1; then
	res kcptun_version "$(kcptun-client -v 2>&1 | head -n 1)"
	scenario "iperf3 through kcptun (xtea, window $WINDOW)" bench_kcptun
else
	res kcptun_note "not installed"
	skip "iperf3 through kcptun" "kcptun is not installed (apt-get install kcptun)"
fi
if command -v ssh >/dev/null 2>&1 && [[ -x /usr/sbin/sshd ]]; then
	res ssh_version "$(ssh -V 2>&1 | head -n 1)"
	scenario "iperf3 through ssh -L (chacha20-poly1305)" bench_ssh
else
	res ssh_note "not installed"
	skip "iperf3 through ssh -L" "ssh or /usr/sbin/sshd is not installed (apt-get install openssh-client openssh-server)"
fi
scenario "iperf3 through p2pd, mode 2, ${LOSS_PCT}% loss" bench_loss
loss "$NS_INI" "$IF_INI" 0 # in case the scenario stopped half-way
scenario "start to 'Proxy started.', $RUNS runs" bench_startup
if ((BENCH_PERF)); then
	scenario "perf profile of connectd during a mode 2 transfer" bench_perf
fi
scenario "$IDLE_N idle initiators under one p2pd, $IDLE_SECS s idle" bench_idle200
bench_relays

python3 "$BENCH_DIR/report.py" "$RES" | tee "$OUT/table.txt"
cp -f "$RES" "$OUT/results.txt"
if [[ -s $E2E_TMP/profile.txt ]]; then
	{
		echo
		echo "Where connectd spends its time during a mode 2 transfer (perf record, ${PERF_SECS} s):"
		sed -e 's/^/  /' -e 's/ *$//' "$E2E_TMP/profile.txt"
	} | tee -a "$OUT/table.txt"
fi
