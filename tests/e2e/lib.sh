# shellcheck shell=bash
#
# tests/e2e/lib.sh: the end-to-end harness for p2pd.
#
# A scenario is a bash script tests/e2e/t_<name>.sh that sources this file:
#
#	. "$(dirname "$0")/lib.sh"
#	need_bin rendezvousd connectd
#	topo_two_nats masq sym
#	spawn "$NS_RDV" rdv "$RENDEZVOUSD" ...
#	wait_udp "$NS_RDV" "$IP_RDV" 5959 5 rdv
#	spawn "$NS_INI" ini "$CONNECTD" -s -f "$E2E_TMP/ini.conf"
#	wait_log ini '^Proxy started\.' 20
#	check "tunnel carries a file" some_function
#
# Sourcing this file turns on `set -Eeuo pipefail`, checks the requirements
# (root, ip netns, nftables; otherwise it prints a "skip" line and exits 0),
# gives the run a unique id and registers the cleanup that kills every process
# the scenario started and deletes every namespace it made, on any exit.
# Every namespace, and so every veth and nftables rule, lives inside namespaces
# the run made; nothing is added to the host's own namespace.
# README.md beside this file describes every function.

if [[ -n ${_E2E_LIB_LOADED:-} ]]; then
	return 0
fi
_E2E_LIB_LOADED=1

set -Eeuo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_DIR/../.." && pwd)
E2E_NAME=$(basename -- "$0")
BUILD=${BUILD:-build}
case $BUILD in
/*) BIN=$BUILD ;;
*) BIN=$E2E_ROOT/$BUILD ;;
esac
CONNECTD=$BIN/connectd
RENDEZVOUSD=$BIN/rendezvousd
P2PD=$BIN/p2pd
P2PCTL=$BIN/p2pctl
E2E_PYTHON=${E2E_PYTHON:-python3}
export BIN BUILD CONNECTD RENDEZVOUSD P2PD P2PCTL

# The run id prefixes every namespace and temporary directory of this run.
# run.sh passes one in E2E_RUNID; by hand, pid + random number.
RUNID=${E2E_RUNID:-p2p$$x$RANDOM}
if [[ ! $RUNID =~ ^[A-Za-z0-9]{1,32}$ ]]; then
	echo "not ok - $E2E_NAME: E2E_RUNID '$RUNID' is invalid (want 1-32 letters and digits)"
	exit 1
fi

_E2E_MAINPID=$BASHPID
_E2E_CLEANED=0
_E2E_ENVSIG=()
E2E_TMP=""
LOGDIR=""
_E2E_ST=""

# ---------------------------------------------------------------------------
# Reporting

# diag LINE...: print each line (multi-line strings too) as a "# " comment.
diag() {
	local l line
	for l in "$@"; do
		while IFS= read -r line || [[ -n $line ]]; do
			printf '# %s\n' "$line"
		done <<<"$l"
	done
	return 0
}

_e2e_record() { # _e2e_record KIND DESCRIPTION
	printf '%s - %s\n' "$1" "${2//$'\n'/ }"
	if [[ -n $_E2E_ST ]]; then
		printf '%s\n' "$1" >>"$_E2E_ST/results"
	fi
	return 0
}

_e2e_count() { # _e2e_count KIND: how many results of KIND this run recorded
	local n=0
	if [[ -n $_E2E_ST && -f $_E2E_ST/results ]]; then
		n=$(grep -cx -- "$1" "$_E2E_ST/results" || true)
	fi
	echo "${n:-0}"
}

_e2e_prefix() {
	if [[ -n ${_E2E_SCEN:-} ]]; then
		printf '%s: ' "$_E2E_SCEN"
	fi
	return 0
}

# pass DESC: report a passed test ("ok - DESC").
pass() {
	_e2e_record ok "$(_e2e_prefix)$1"
}

# fail DESC [DIAG...]: report a failed test ("not ok - DESC") and diagnostics.
fail() {
	_e2e_record "not ok" "$(_e2e_prefix)$1"
	shift
	diag "$@"
}

# skip DESC REASON: report a test that was not run ("skip - DESC (REASON)").
skip() {
	_e2e_record skip "$(_e2e_prefix)$1 (${2:-no reason given})"
}

# skip_all REASON: report the whole scenario script as skipped and exit 0.
skip_all() {
	skip "$E2E_NAME" "$1"
	exit 0
}

_e2e_quote() {
	local out="" a
	for a in "$@"; do
		out+="$(printf '%q' "$a") "
	done
	printf '%s' "${out% }"
}

_e2e_tail_file() { # _e2e_tail_file FILE [LINES]: a file's tail as diagnostics
	local f=$1 n=${2:-${E2E_LOG_TAIL:-20}}
	if [[ ! -s $f ]]; then
		diag "  (empty)"
		return 0
	fi
	tail -n "$n" -- "$f" | sed -e 's/^# //' -e 's/^/#   /'
	return 0
}

# check DESC CMD [ARGS...]: run CMD (a program or a shell function, with
# errexit on, stdin from /dev/null) and report "ok - DESC" if it exits 0, else
# "not ok - DESC" with the command, its exit status and its output's tail.
# "check DESC ! CMD..." expects CMD to fail.  The scenario goes on either way;
# the script's exit status counts every failure.  Returns 0.
check() {
	local desc=$1 rc=0 e=0 neg=0 out
	shift
	if [[ ${1:-} == "!" ]]; then
		neg=1
		shift
	fi
	out=$(mktemp "$E2E_TMP/check.XXXXXX")
	[[ $- == *e* ]] && e=1
	set +e
	trap - ERR
	(
		trap _e2e_on_err ERR
		set -e
		"$@"
	) >"$out" 2>&1 </dev/null
	rc=$?
	trap _e2e_on_err ERR
	if ((e)); then set -e; fi
	if { ((neg == 0)) && ((rc == 0)); } || { ((neg == 1)) && ((rc != 0)); }; then
		pass "$desc"
	else
		if ((neg)); then
			fail "$desc" "command: ! $(_e2e_quote "$@")" "it succeeded, but it was expected to fail; its output:"
		else
			fail "$desc" "command: $(_e2e_quote "$@")" "exit status $rc; its output:"
		fi
		_e2e_tail_file "$out"
	fi
	rm -f -- "$out"
	return 0
}

# require DESC CMD [ARGS...]: as check, but a failure ends the scenario script.
require() {
	local before
	before=$(_e2e_count "not ok")
	check "$@"
	if (($(_e2e_count "not ok") > before)); then
		diag "a required step failed; stopping here"
		exit 1
	fi
	return 0
}

# check_eq DESC WANT GOT: "ok" if the two strings are equal.
check_eq() {
	if [[ $2 == "$3" ]]; then
		pass "$1"
	else
		fail "$1" "want: $2" "got:  $3"
	fi
	return 0
}

# show FILE...: each file's name and last 40 lines as diagnostics (for a
# failing check); a missing file shows its name only.
show() {
	local f
	for f in "$@"; do
		diag "--- $f:"
		if [[ -f $f ]]; then sed 's/^/#   /' "$f" | tail -n 40; fi
	done
	return 0
}

# scenario DESC FUNC [ARGS...]: run FUNC in a subshell with errexit on.  Checks
# inside it are reported as "DESC: check". If FUNC stops on an error, "not ok -
# DESC: aborted ..." is reported; if it ran no check and succeeded, "ok - DESC".
# Afterwards every process started and namespace made inside FUNC is removed,
# so the next scenario starts clean. Call it at the top level of the script.
scenario() {
	local desc=$1 rc=0 e=0 nres_before nres_after mark
	shift
	nres_before=$(_e2e_nresults)
	mark=$(_e2e_mark)
	diag "scenario: $desc"
	[[ $- == *e* ]] && e=1
	set +e
	trap - ERR
	(
		trap _e2e_on_err ERR
		_E2E_SCEN=$desc
		set -e
		"$@"
	)
	rc=$?
	trap _e2e_on_err ERR
	if ((e)); then set -e; fi
	nres_after=$(_e2e_nresults)
	if ((rc != 0)); then
		_e2e_record "not ok" "$desc: aborted (exit status $rc), see the error above"
	elif ((nres_after == nres_before)); then
		_e2e_record ok "$desc"
	fi
	_e2e_teardown_since "$mark"
	return 0
}

_e2e_nresults() {
	if [[ -f $_E2E_ST/results ]]; then
		wc -l <"$_E2E_ST/results"
	else
		echo 0
	fi
}

# ---------------------------------------------------------------------------
# Errors, signals and cleanup

_e2e_on_err() {
	local rc=$? i
	if [[ ${_E2E_ERR_SHOWN:-} == "$BASHPID" ]]; then
		return 0
	fi
	_E2E_ERR_SHOWN=$BASHPID
	diag "error: '$BASH_COMMAND' exited with status $rc at ${BASH_SOURCE[1]:-?}:${BASH_LINENO[0]:-?}"
	for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
		diag "  in ${FUNCNAME[i]}(), called at ${BASH_SOURCE[i + 1]:-?}:${BASH_LINENO[i]:-?}"
	done
	return 0
}

_e2e_on_signal() {
	local sig=$1 code=$2
	if [[ $BASHPID != "$_E2E_MAINPID" ]]; then
		exit "$code"
	fi
	diag "$E2E_NAME: interrupted by SIG$sig"
	exit "$code"
}

_e2e_on_exit() {
	local rc=$? nf
	if [[ $BASHPID != "$_E2E_MAINPID" ]]; then
		return 0
	fi
	trap - ERR
	trap '' INT TERM HUP
	set +eE
	nf=$(_e2e_count "not ok")
	if ((rc != 0 && nf == 0)); then
		_e2e_record "not ok" "$E2E_NAME: stopped with exit status $rc"
		nf=1
	fi
	if ((nf > 0)); then
		_e2e_dump_logs
	fi
	_e2e_cleanup
	if ((nf > 0 && rc == 0)); then
		rc=1
	fi
	exit "$rc"
}

_e2e_dump_logs() {
	local f
	[[ -n $LOGDIR && -d $LOGDIR ]] || return 0
	for f in "$LOGDIR"/*; do
		[[ -f $f ]] || continue
		diag "---- last ${E2E_LOG_TAIL:-20} lines of ${f##*/}"
		_e2e_tail_file "$f"
	done
	return 0
}

# A process is "ours" if it still runs with the start time recorded at spawn.
_e2e_starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# after the command name: state is field 3, starttime field 22
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $stat
	[[ $# -ge 20 ]] || return 1
	printf '%s\n' "${20}"
}

_e2e_alive() { # _e2e_alive PID: running and not a zombie
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

_e2e_proc_pid() { # _e2e_proc_pid NAME: the pid if NAME still runs as spawned
	local f=$_E2E_ST/proc/$1.pid pid st now
	[[ -f $f ]] || return 1
	read -r pid st <"$f" || return 1
	[[ -f $_E2E_ST/proc/$1.rc ]] && return 1
	now=$(_e2e_starttime "$pid") || return 1
	[[ $now == "$st" ]] || return 1
	_e2e_alive "$pid" || return 1
	printf '%s\n' "$pid"
}

_e2e_ns_inode() {
	stat -L -c %i "/run/netns/$1" 2>/dev/null
}

_e2e_ns_pids() { # _e2e_ns_pids NS: pids whose network namespace is NS
	local ino p
	ino=$(_e2e_ns_inode "$1") || return 0
	for p in $(ip netns pids "$1" 2>/dev/null); do
		if [[ $(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null) == "$ino" && $p != "$$" ]]; then
			printf '%s\n' "$p"
		fi
	done
	return 0
}

_e2e_mark() { # position in the process and namespace lists, for teardown
	local np=0 nn=0
	[[ -f $_E2E_ST/procs ]] && np=$(wc -l <"$_E2E_ST/procs")
	[[ -f $_E2E_ST/netns ]] && nn=$(wc -l <"$_E2E_ST/netns")
	echo "$np:$nn"
}

# Kill every process spawned after MARK and every process inside a namespace
# made after MARK (TERM, then KILL after E2E_KILL_GRACE seconds), then delete
# those namespaces (which deletes their veths and rules).
_e2e_teardown_since() {
	local mark=$1 np nn name ns pids=() p round grace_ms deadline
	local -a names=() nss=()
	np=${mark%%:*}
	nn=${mark##*:}
	[[ -n $_E2E_ST && -d $_E2E_ST ]] || return 0
	if [[ -f $_E2E_ST/procs ]]; then
		mapfile -t names < <(tail -n "+$((np + 1))" "$_E2E_ST/procs")
	fi
	if [[ -f $_E2E_ST/netns ]]; then
		mapfile -t nss < <(tail -n "+$((nn + 1))" "$_E2E_ST/netns")
	fi
	((${#names[@]} + ${#nss[@]} > 0)) || return 0
	grace_ms=$(_e2e_ms "${E2E_KILL_GRACE:-3}")
	for round in TERM KILL; do
		pids=()
		for name in "${names[@]}"; do
			p=$(_e2e_proc_pid "$name") && pids+=("$p")
		done
		for ns in "${nss[@]}"; do
			mapfile -t -O "${#pids[@]}" pids < <(_e2e_ns_pids "$ns")
		done
		((${#pids[@]} > 0)) || break
		kill "-$round" "${pids[@]}" 2>/dev/null || true
		[[ $round == KILL ]] && break
		deadline=$(($(_e2e_now_ms) + grace_ms))
		while (($(_e2e_now_ms) < deadline)); do
			for p in "${!pids[@]}"; do
				_e2e_alive "${pids[p]}" || unset "pids[p]"
			done
			((${#pids[@]} > 0)) || break
			sleep 0.05
		done
		if ((${#pids[@]} > 0)); then
			diag "cleanup: sending KILL to ${pids[*]}, still running ${E2E_KILL_GRACE:-3} s after TERM"
		fi
	done
	for ((p = ${#nss[@]} - 1; p >= 0; p--)); do
		ip netns del "${nss[p]}" 2>/dev/null || true
	done
	# forget what was removed
	if [[ -f $_E2E_ST/netns ]]; then
		head -n "$nn" "$_E2E_ST/netns" >"$_E2E_ST/netns.new"
		mv -f "$_E2E_ST/netns.new" "$_E2E_ST/netns"
		if [[ -f $_E2E_ST/veths ]]; then
			for ns in "${nss[@]}"; do
				awk -v n="$ns" '$1 != n && $3 != n' "$_E2E_ST/veths" >"$_E2E_ST/veths.new"
				mv -f "$_E2E_ST/veths.new" "$_E2E_ST/veths"
			done
		fi
	fi
	return 0
}

# e2e_teardown: kill every spawned process and delete every namespace made so
# far (logs stay), so that a script can build another topology.
e2e_teardown() {
	_e2e_teardown_since "0:0"
}

_e2e_cleanup() {
	if ((_E2E_CLEANED)); then
		return 0
	fi
	_E2E_CLEANED=1
	e2e_teardown
	if [[ -n $E2E_TMP && -d $E2E_TMP ]]; then
		if [[ ${E2E_KEEP:-0} == 1 ]]; then
			diag "E2E_KEEP=1: logs and files kept in $E2E_TMP"
		else
			rm -rf -- "$E2E_TMP"
		fi
	fi
	return 0
}

# ---------------------------------------------------------------------------
# Time and small parsers

_e2e_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t / 1000))
}

_e2e_ms() { # _e2e_ms SECONDS (integer or decimal) -> milliseconds
	local s=$1 frac
	if [[ ! $s =~ ^([0-9]+)(\.([0-9]{1,3}))?$ ]]; then
		echo "lib.sh: '$s' is not a time in seconds (want e.g. 5 or 0.5)" >&2
		return 1
	fi
	frac=${BASH_REMATCH[3]}000
	echo $((10#${BASH_REMATCH[1]} * 1000 + 10#${frac:0:3}))
}

# wait_for TIMEOUT_S CMD...: run CMD (output discarded) every 50 ms until it
# succeeds; after TIMEOUT_S seconds (integer or decimal) say so and fail.
wait_for() {
	local t=$1 ms deadline
	shift
	ms=$(_e2e_ms "$t") || return 1
	deadline=$(($(_e2e_now_ms) + ms))
	until "$@" >/dev/null 2>&1; do
		if (($(_e2e_now_ms) > deadline)); then
			diag "still not true after $t s: $*"
			return 1
		fi
		sleep 0.05
	done
}

_e2e_die() { # _e2e_die MESSAGE: a harness usage error; fails the caller
	diag "$(caller 0 | awk '{print $2}'): $*"
	return 1
}

_e2e_ip2int() {
	local IFS=. a b c d
	[[ $1 =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || return 1
	read -r a b c d <<<"$1"
	a=$((10#$a)) b=$((10#$b)) c=$((10#$c)) d=$((10#$d))
	((a < 256 && b < 256 && c < 256 && d < 256)) || return 1
	echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

# _e2e_test_range ADDR[/LEN]: succeeds if ADDR lies in a documentation or
# benchmark range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
# 198.18.0.0/15), the only addresses this harness ever configures.
_e2e_test_range() {
	local ip=${1%/*} len=32 n
	if [[ $1 == */* ]]; then
		len=${1#*/}
		[[ $len =~ ^[0-9]+$ ]] && ((len <= 32)) || return 1
	fi
	n=$(_e2e_ip2int "$ip") || return 1
	if (((n >> 8) == ((192 << 16) | (0 << 8) | 2) && len >= 24)) ||
		(((n >> 8) == ((198 << 16) | (51 << 8) | 100) && len >= 24)) ||
		(((n >> 8) == ((203 << 16) | (0 << 8) | 113) && len >= 24)) ||
		(((n >> 17) == (((198 << 16) | (18 << 8)) >> 9) && len >= 15)); then
		return 0
	fi
	return 1
}

_e2e_valid_short() {
	[[ $1 =~ ^[a-z][a-z0-9]{0,15}$ ]]
}

_e2e_valid_if() {
	[[ $1 =~ ^[A-Za-z][A-Za-z0-9_]{0,14}$ ]]
}

# ---------------------------------------------------------------------------
# Namespaces, links, routes

# ns NAME: print the full namespace name for NAME ("<runid>-NAME"); a name
# that already carries this run's prefix is printed unchanged.
ns() {
	if [[ $1 == "$RUNID"-* ]]; then
		printf '%s\n' "$1"
	else
		printf '%s\n' "$RUNID-$1"
	fi
}

_e2e_ns_known() { # _e2e_ns_known FULLNAME: made by this run and still there
	[[ -f $_E2E_ST/netns ]] && grep -qxF -- "$1" "$_E2E_ST/netns"
}

_e2e_ns_arg() { # resolve a namespace argument, which must be one of ours
	local full
	full=$(ns "$1")
	if ! _e2e_ns_known "$full"; then
		_e2e_die "namespace '$1' was not made by this run (ns_new makes one)"
		return 1
	fi
	printf '%s\n' "$full"
}

# _e2e_track_ns FULLNAME: remember a namespace for cleanup (before creating it).
_e2e_track_ns() {
	printf '%s\n' "$1" >>"$_E2E_ST/netns"
}

_e2e_untrack_ns() {
	grep -vxF -- "$1" "$_E2E_ST/netns" >"$_E2E_ST/netns.new" || true
	mv -f "$_E2E_ST/netns.new" "$_E2E_ST/netns"
}

# ns_new NAME: create namespace "<runid>-NAME" (NAME: a lowercase letter, then
# up to 15 lowercase letters or digits), bring lo up, turn forwarding and
# reverse-path filtering off and IPv6 off on new links (::1 stays on lo).
# Returns non-zero if it exists already or cannot be made.
ns_new() {
	local short=$1 full
	if ! _e2e_valid_short "$short"; then
		_e2e_die "bad namespace name '$short' (want a lowercase letter then up to 15 lowercase letters or digits)"
		return 1
	fi
	full=$(ns "$short")
	if [[ -e /run/netns/$full ]]; then
		_e2e_die "namespace $full exists already"
		return 1
	fi
	_e2e_track_ns "$full"
	if ! ip netns add "$full"; then
		_e2e_untrack_ns "$full"
		_e2e_die "ip netns add $full failed"
		return 1
	fi
	ip -n "$full" link set lo up
	ip netns exec "$full" sysctl -q -e -w net.ipv4.ip_forward=0 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.default.accept_dad=0 \
		>/dev/null
	return 0
}

# nsx NS CMD [ARGS...]: run CMD in namespace NS in the foreground.
nsx() {
	local full
	full=$(_e2e_ns_arg "$1") || return 1
	shift
	ip netns exec "$full" "$@"
}

# addr_add NS IF ADDR/LEN: add an address from a test range to IF in NS.
addr_add() {
	local full
	full=$(_e2e_ns_arg "$1") || return 1
	if ! _e2e_test_range "$3" || [[ $3 != */* ]]; then
		_e2e_die "address '$3' is not ADDR/LEN inside 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or 198.18.0.0/15"
		return 1
	fi
	ip -n "$full" addr add "$3" dev "$2"
}

_e2e_link_up() { # _e2e_link_up FULLNS IF ADDR|-
	if [[ $3 != - ]]; then
		addr_add "$1" "$2" "$3"
	fi
	ip -n "$1" link set "$2" up
}

# veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B: a veth pair from IF_A in NS_A to
# IF_B in NS_B, both up, with addresses ADDR/LEN ("-" for none).  The pair is
# created inside NS_A and NS_B directly; it never exists in the host namespace.
veth() {
	local a b
	a=$(_e2e_ns_arg "$1") || return 1
	b=$(_e2e_ns_arg "$4") || return 1
	if ! _e2e_valid_if "$2" || ! _e2e_valid_if "$5"; then
		_e2e_die "bad interface name '$2' or '$5' (want a letter then up to 14 letters, digits or _)"
		return 1
	fi
	local x
	for x in "$3" "$6"; do
		if [[ $x != - ]] && ! _e2e_test_range "$x"; then
			_e2e_die "address '$x' is outside the test ranges"
			return 1
		fi
	done
	ip -n "$a" link add "$2" type veth peer name "$5" netns "$b"
	printf '%s %s %s %s\n' "$a" "$2" "$b" "$5" >>"$_E2E_ST/veths"
	_e2e_link_up "$a" "$2" "$3"
	_e2e_link_up "$b" "$5" "$6"
}

# veth_peer NS IF: print "PEER_NS PEER_IF" of a veth this run made.
veth_peer() {
	local full
	full=$(ns "$1")
	awk -v n="$full" -v i="$2" '
		$1 == n && $2 == i { print $3, $4; f = 1; exit }
		$3 == n && $4 == i { print $1, $2; f = 1; exit }
		END { exit !f }' "$_E2E_ST/veths" 2>/dev/null || {
		_e2e_die "$2 in $full is not a veth made by this run"
		return 1
	}
}

# router NS: turn IPv4 forwarding on in NS.
router() {
	nsx "$1" sysctl -q -w net.ipv4.ip_forward=1 >/dev/null
}

# route_add NS PREFIX GW: route PREFIX (or "default") via GW inside NS.
route_add() {
	local full
	full=$(_e2e_ns_arg "$1") || return 1
	if [[ $2 != default ]] && ! _e2e_test_range "$2"; then
		_e2e_die "route prefix '$2' is outside the test ranges"
		return 1
	fi
	if ! _e2e_test_range "$3"; then
		_e2e_die "gateway '$3' is outside the test ranges"
		return 1
	fi
	ip -n "$full" route add "$2" via "$3"
}

# route_default NS GW: default route via GW inside NS.
route_default() {
	route_add "$1" default "$2"
}

# switch_new NAME: a namespace holding an Ethernet switch (bridge br0, no
# address, no spanning tree, so ports forward at once).
switch_new() {
	ns_new "$1" || return 1
	local full
	full=$(ns "$1")
	ip netns exec "$full" sysctl -q -e -w net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 \
		>/dev/null 2>&1 || true
	ip -n "$full" link add br0 type bridge stp_state 0 forward_delay 0
	ip -n "$full" link set br0 up
}

# switch_port SWITCH NS IF ADDR: plug IF (address ADDR/LEN, or "-") of NS into
# SWITCH; the switch side is named p<N> in the switch namespace.
switch_port() {
	local sw n
	sw=$(_e2e_ns_arg "$1") || return 1
	n=$(ip -n "$sw" -o link show master br0 2>/dev/null | wc -l)
	veth "$2" "$3" "$4" "$sw" "p$n" - || return 1
	ip -n "$sw" link set "p$n" master br0
}

# ---------------------------------------------------------------------------
# nftables: NAT, loss, blocking

_e2e_nft() { # _e2e_nft FULLNS: apply the ruleset on stdin, show it if refused
	local rules
	rules=$(cat)
	if ! ip netns exec "$1" nft -f - <<<"$rules" 2>"$E2E_TMP/nft.err"; then
		diag "nft refused this ruleset in $1:" "$rules" "$(cat "$E2E_TMP/nft.err")"
		return 1
	fi
}

_e2e_has_if() {
	ip -n "$1" link show dev "$2" >/dev/null 2>&1 || {
		_e2e_die "no interface '$2' in $1"
		return 1
	}
}

# NAT rules (table ip p2p_nat, replaced on each call).  All three NATs drop
# unsolicited packets arriving on WANIF silently, as a home router does: no
# ICMP "port unreachable" comes back.  There is no hairpinning.
_e2e_nat() { # _e2e_nat FULLNS WANIF POSTROUTING_RULES [PREROUTING_RULES [EXTRA]]
	local full=$1 wan=$2
	_e2e_nft "$full" <<EOF
table ip p2p_nat
delete table ip p2p_nat
table ip p2p_nat {
	${5:-}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		${4:-}
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		$3
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "$wan" ct state established,related accept
		iifname "$wan" ct status dnat accept
		iifname "$wan" drop
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "$wan" ct state established,related accept
		iifname "$wan" drop
	}
}
EOF
}

# nat_masquerade NS WANIF: NAT on NS towards WANIF with endpoint-independent,
# port-preserving mapping (nftables "masquerade": a flow keeps its source port
# when that is free) and endpoint-dependent filtering (conntrack).
nat_masquerade() {
	local full
	full=$(_e2e_ns_arg "$1") || return 1
	_e2e_has_if "$full" "$2" || return 1
	_e2e_nat "$full" "$2" "oifname \"$2\" masquerade"
}

# nat_symmetric NS WANIF: a symmetric NAT ("masquerade random"): every flow
# (source, destination address and port) gets its own, randomised, port.
nat_symmetric() {
	local full
	full=$(_e2e_ns_arg "$1") || return 1
	_e2e_has_if "$full" "$2" || return 1
	_e2e_nat "$full" "$2" "oifname \"$2\" masquerade random"
}

# nat_fullcone NS WANIF WANIP: endpoint-independent mapping and filtering for
# UDP ("full cone"): once a LAN host sent from a port, anyone may send to
# WANIP:mapped-port and reach it.  Built from snat (port preserving), a
# dynamic map learned from outgoing UDP (mapped port -> LAN address and port,
# kept 120 s after the last outgoing packet) and dnat for new inbound flows.
# TCP is masqueraded as usual.
nat_fullcone() {
	local full
	full=$(_e2e_ns_arg "$1") || return 1
	_e2e_has_if "$full" "$2" || return 1
	if ! _e2e_test_range "$3" || [[ $3 == */* ]]; then
		_e2e_die "WAN address '$3' is not an address in the test ranges"
		return 1
	fi
	_e2e_nat "$full" "$2" \
		"oifname \"$2\" meta l4proto udp snat ip to $3
		oifname \"$2\" masquerade" \
		"iifname \"$2\" ip daddr $3 meta l4proto udp ct state new dnat ip to udp dport map @fullcone" \
		"map fullcone {
		type inet_service : ipv4_addr . inet_service
		flags dynamic, timeout
		timeout 120s
	}
	chain learn {
		type filter hook postrouting priority srcnat + 10; policy accept;
		oifname \"$2\" meta l4proto udp ct direction original update @fullcone { udp sport : ct original ip saddr . ct original proto-src }
	}"
}

# nat_clear NS: remove the NAT set up by nat_* in NS.
nat_clear() {
	local full
	full=$(_e2e_ns_arg "$1") || return 1
	_e2e_nft "$full" <<<$'table ip p2p_nat\ndelete table ip p2p_nat'
}

# Drop rules sit on the ingress hook of both ends of a veth, so that packets
# are lost silently on the wire in both directions (a drop on the output path
# would make the sender's sendto() fail with EPERM instead).
_e2e_ingress_rule() { # FULLNS IF TABLE RULE|""
	local full=$1 dev=$2 table=$3 rule=$4
	local t="${table}_${dev}"
	if [[ -z $rule ]]; then
		_e2e_nft "$full" <<<"table netdev $t"$'\n'"delete table netdev $t"
		return
	fi
	_e2e_nft "$full" <<EOF
table netdev $t
delete table netdev $t
table netdev $t {
	chain ingress {
		type filter hook ingress device "$dev" priority filter; policy accept;
		$rule
	}
}
EOF
}

_e2e_both_ends() { # NS IF TABLE RULE: apply on IF and on its veth peer
	local full peer
	full=$(_e2e_ns_arg "$1") || return 1
	peer=$(veth_peer "$full" "$2") || return 1
	_e2e_ingress_rule "$full" "$2" "$3" "$4" || return 1
	_e2e_ingress_rule "${peer% *}" "${peer#* }" "$3" "$4"
}

# loss NS IF PCT: drop PCT % (0-100) of the IPv4 UDP packets crossing IF at
# random, in both directions (nftables "numgen random mod 100 < PCT drop").
# PCT 0 removes the rule.  IF must be a veth made by this run.
loss() {
	local pct=$3
	if [[ ! $pct =~ ^[0-9]{1,3}$ ]] || ((10#$pct > 100)); then
		_e2e_die "loss percentage '$pct' is not 0-100"
		return 1
	fi
	if ((10#$pct == 0)); then
		_e2e_both_ends "$1" "$2" p2p_loss ""
	else
		_e2e_both_ends "$1" "$2" p2p_loss \
			"ip protocol udp numgen random mod 100 < $((10#$pct)) counter drop"
	fi
}

_e2e_ns_veths() { # FULLNS: the veth interfaces this run put in it
	awk -v n="$1" '$1 == n { print $2 } $3 == n { print $4 }' "$_E2E_ST/veths" 2>/dev/null
}

# block_udp NS [IF...]: drop every IPv4 UDP packet crossing the given veths of
# NS (default: all of them) in both directions; TCP and ICMP still pass.
block_udp() {
	local full ifs=() i
	full=$(_e2e_ns_arg "$1") || return 1
	shift
	if (($# > 0)); then ifs=("$@"); else mapfile -t ifs < <(_e2e_ns_veths "$full"); fi
	for i in "${ifs[@]}"; do
		_e2e_both_ends "$full" "$i" p2p_block "ip protocol udp counter drop" || return 1
	done
}

# unblock_udp NS [IF...]: undo block_udp.
unblock_udp() {
	local full ifs=() i
	full=$(_e2e_ns_arg "$1") || return 1
	shift
	if (($# > 0)); then ifs=("$@"); else mapfile -t ifs < <(_e2e_ns_veths "$full"); fi
	for i in "${ifs[@]}"; do
		_e2e_both_ends "$full" "$i" p2p_block "" || return 1
	done
}

# ---------------------------------------------------------------------------
# Standard topologies

_e2e_topo_side() { # ROLE(ini|tgt) KIND WANIP LANPREFIX(a.b.c) PUBIP
	local role=$1 kind=$2 wan=$3 lan=$4 pub=$5 nat=nat${1:0:1}
	local host=$role up
	up=${role^^}
	case $kind in
	none)
		ns_new "$host"
		switch_port pub "$host" eth0 "$pub/24"
		printf -v "NS_NAT${up:0:1}" '%s' ""
		printf -v "IP_NAT${up:0:1}" '%s' ""
		printf -v "IP_NAT${up:0:1}_LAN" '%s' ""
		printf -v "IP_$up" '%s' "$pub"
		printf -v "IP_${up}_PUB" '%s' "$pub"
		;;
	masq | sym | full)
		ns_new "$nat"
		router "$nat"
		switch_port pub "$nat" wan0 "$wan/24"
		ns_new "$host"
		veth "$nat" lan0 "$lan.1/24" "$host" eth0 "$lan.10/24"
		route_default "$host" "$lan.1"
		case $kind in
		masq) nat_masquerade "$nat" wan0 ;;
		sym) nat_symmetric "$nat" wan0 ;;
		full) nat_fullcone "$nat" wan0 "$wan" ;;
		esac
		printf -v "NS_NAT${up:0:1}" '%s' "$(ns "$nat")"
		printf -v "IP_NAT${up:0:1}" '%s' "$wan"
		printf -v "IP_NAT${up:0:1}_LAN" '%s' "$lan.1"
		printf -v "IP_$up" '%s' "$lan.10"
		printf -v "IP_${up}_PUB" '%s' "$wan"
		;;
	*)
		_e2e_die "NAT kind '$kind' is not one of none, masq, sym, full"
		return 1
		;;
	esac
	printf -v "NS_$up" '%s' "$(ns "$host")"
	printf -v "IF_$up" '%s' eth0
}

_e2e_topo_common() {
	switch_new pub
	ns_new rdv
	switch_port pub rdv eth0 203.0.113.1/24
	addr_add rdv eth0 203.0.113.100/24
	NS_PUB=$(ns pub)
	NS_RDV=$(ns rdv)
	IP_RDV=203.0.113.1
	IP_RDV_ALT=203.0.113.100
	IF_RDV=eth0
	IF_NAT_WAN=wan0
	IF_NAT_LAN=lan0
}

_e2e_topo_export() {
	export TOPO NS_PUB NS_LAN NS_RDV NS_INI NS_TGT NS_NATI NS_NATT IP_RDV IP_RDV_ALT \
		IP_INI IP_TGT IP_INI_PUB IP_TGT_PUB IP_NATI IP_NATT IP_NATI_LAN IP_NATT_LAN \
		IF_RDV IF_INI IF_TGT IF_NAT_WAN IF_NAT_LAN
}

# topo_two_nats I_KIND T_KIND: the standard topology.  KIND is none, masq,
# sym or full (nat_fullcone).
#
#   [rdv 203.0.113.1 (+ .100)] --- switch "pub" 203.0.113.0/24 ---+---+
#   [nati wan0 203.0.113.2 | lan0 192.0.2.1/24] -- [ini eth0 192.0.2.10]
#   [natt wan0 203.0.113.3 | lan0 198.51.100.1/24] -- [tgt eth0 198.51.100.10]
#
# KIND none: no NAT router; the host sits on the public switch as
# 203.0.113.10 (initiator) or 203.0.113.20 (target).  Sets and exports NS_*
# (full namespace names; NS_NATI/NS_NATT empty without NAT), IP_* and IF_*
# as listed in README.md.
topo_two_nats() {
	if (($# != 2)); then
		_e2e_die "usage: topo_two_nats I_KIND T_KIND (none|masq|sym|full)"
		return 1
	fi
	TOPO="two_nats $1 $2"
	NS_LAN=""
	_e2e_topo_common
	_e2e_topo_side ini "$1" 203.0.113.2 192.0.2 203.0.113.10
	_e2e_topo_side tgt "$2" 203.0.113.3 198.51.100 203.0.113.20
	_e2e_topo_export
}

# topo_same_lan [KIND]: both peers on one LAN behind one NAT (default masq):
#   rdv 203.0.113.1 (+ .100) on switch "pub"; router "nat" wan0 203.0.113.2,
#   lan0 198.51.100.1/24 on switch "lan"; ini 198.51.100.10; tgt 198.51.100.20.
# NS_NATI and NS_NATT both name the router.
topo_same_lan() {
	local kind=${1:-masq}
	TOPO="same_lan $kind"
	_e2e_topo_common
	ns_new nat
	router nat
	switch_port pub nat wan0 203.0.113.2/24
	switch_new lan
	switch_port lan nat lan0 198.51.100.1/24
	case $kind in
	masq) nat_masquerade nat wan0 ;;
	sym) nat_symmetric nat wan0 ;;
	full) nat_fullcone nat wan0 203.0.113.2 ;;
	*)
		_e2e_die "NAT kind '$kind' is not one of masq, sym, full"
		return 1
		;;
	esac
	ns_new ini
	switch_port lan ini eth0 198.51.100.10/24
	route_default ini 198.51.100.1
	ns_new tgt
	switch_port lan tgt eth0 198.51.100.20/24
	route_default tgt 198.51.100.1
	NS_LAN=$(ns lan)
	NS_NATI=$(ns nat)
	NS_NATT=$NS_NATI
	NS_INI=$(ns ini)
	NS_TGT=$(ns tgt)
	IP_NATI=203.0.113.2
	IP_NATT=203.0.113.2
	IP_NATI_LAN=198.51.100.1
	IP_NATT_LAN=198.51.100.1
	IP_INI=198.51.100.10
	IP_TGT=198.51.100.20
	IP_INI_PUB=203.0.113.2
	IP_TGT_PUB=203.0.113.2
	IF_INI=eth0
	IF_TGT=eth0
	_e2e_topo_export
}

# ---------------------------------------------------------------------------
# Processes

# spawn NS NAME CMD [ARGS...]: start CMD in the background inside NS ("-":
# the host namespace, for helpers that need no network), stdin /dev/null,
# stdout and stderr to $LOGDIR/NAME.log (an older log of NAME is renamed
# NAME.log.1, .2, ...).  SIGINT and SIGQUIT are at their defaults in CMD.
# NAME: letters, digits, '_' or '-'; a NAME still running is an error.
spawn() {
	local nsarg=$1 name=$2 full="" log pidf rcf n deadline
	shift 2
	if [[ ! $name =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$ ]]; then
		_e2e_die "bad process name '$name' (want letters, digits, _ or -)"
		return 1
	fi
	if (($# == 0)); then
		_e2e_die "no command given for $name"
		return 1
	fi
	if [[ $nsarg != - ]]; then
		full=$(_e2e_ns_arg "$nsarg") || return 1
	fi
	if _e2e_proc_pid "$name" >/dev/null; then
		_e2e_die "a process named $name is still running"
		return 1
	fi
	log=$LOGDIR/$name.log
	if [[ -e $log ]]; then
		n=1
		while [[ -e $log.$n ]]; do n=$((n + 1)); done
		mv -f -- "$log" "$log.$n"
	fi
	pidf=$_E2E_ST/proc/$name.pid
	rcf=$_E2E_ST/proc/$name.rc
	rm -f -- "$pidf" "$rcf"
	local -a pre=()
	if [[ -n $full ]]; then pre=(ip netns exec "$full"); fi
	(
		trap - ERR EXIT INT TERM HUP
		set +eE
		"${pre[@]}" "${_E2E_ENVSIG[@]}" "$@" </dev/null >"$log" 2>&1 &
		p=$!
		echo "$p $(_e2e_starttime "$p")" >"$pidf.tmp" && mv -f "$pidf.tmp" "$pidf"
		wait "$p"
		echo "$?" >"$rcf.tmp" && mv -f "$rcf.tmp" "$rcf"
	) </dev/null >/dev/null 2>&1 &
	printf '%s\n' "$name" >>"$_E2E_ST/procs"
	deadline=$(($(_e2e_now_ms) + 5000))
	while [[ ! -f $pidf ]]; do
		if (($(_e2e_now_ms) > deadline)); then
			_e2e_die "could not start $name"
			return 1
		fi
		sleep 0.01
	done
	diag "spawned $name (pid $(cut -d' ' -f1 "$pidf")) in ${full:-the host namespace}: $(_e2e_quote "$@")"
}

# pid_of NAME: print the pid of NAME (also after it exited).
pid_of() {
	local pid st
	read -r pid st <"$_E2E_ST/proc/$1.pid" 2>/dev/null || {
		_e2e_die "no process named $1 was spawned"
		return 1
	}
	printf '%s\n' "$pid"
}

# log_of NAME: print the path of NAME's log.
log_of() {
	printf '%s\n' "$LOGDIR/$1.log"
}

# running NAME: succeeds if NAME runs.
running() {
	_e2e_proc_pid "$1" >/dev/null
}

_e2e_rc_of() { # print NAME's exit status if it exited
	[[ -f $_E2E_ST/proc/$1.rc ]] && cat "$_E2E_ST/proc/$1.rc"
}

# wait_log NAME REGEX TIMEOUT_S: wait until NAME's log matches the extended
# regular expression, polling every 50 ms.  Fails (status 1, with the log's
# tail) on timeout, or at once if NAME exited without writing a match.
wait_log() {
	local name=$1 re=$2 t=${3:-10} log ms deadline rc
	log=$LOGDIR/$name.log
	ms=$(_e2e_ms "$t") || return 1
	if [[ ! -f $_E2E_ST/proc/$name.pid ]]; then
		_e2e_die "no process named $name was spawned"
		return 1
	fi
	deadline=$(($(_e2e_now_ms) + ms))
	while :; do
		if grep -Eqa -- "$re" "$log" 2>/dev/null; then
			return 0
		fi
		if rc=$(_e2e_rc_of "$name"); then
			if grep -Eqa -- "$re" "$log" 2>/dev/null; then
				return 0
			fi
			diag "wait_log: $name exited with status $rc before its log matched /$re/; last lines of $name.log:"
			_e2e_tail_file "$log"
			return 1
		fi
		if (($(_e2e_now_ms) >= deadline)); then
			diag "wait_log: $name's log did not match /$re/ within $t s; last lines of $name.log:"
			_e2e_tail_file "$log"
			return 1
		fi
		sleep 0.05
	done
}

# wait_exit NAME TIMEOUT_S: wait for NAME to exit and return its exit status
# (128+N if killed by signal N); 124 with a diagnostic if it still runs after
# TIMEOUT_S.  Under errexit write "rc=0; wait_exit NAME 5 || rc=$?".
wait_exit() {
	local name=$1 t=${2:-10} ms deadline rc
	ms=$(_e2e_ms "$t") || return 1
	if [[ ! -f $_E2E_ST/proc/$name.pid ]]; then
		_e2e_die "no process named $name was spawned"
		return 1
	fi
	deadline=$(($(_e2e_now_ms) + ms))
	while ! rc=$(_e2e_rc_of "$name"); do
		if (($(_e2e_now_ms) >= deadline)); then
			diag "wait_exit: $name still running after $t s"
			return 124
		fi
		sleep 0.05
	done
	return "$rc"
}

# expect_exit NAME CODE TIMEOUT_S: succeed if NAME exits with CODE in time.
expect_exit() {
	local rc=0
	wait_exit "$1" "$3" || rc=$?
	if [[ $rc != "$2" ]]; then
		diag "expect_exit: $1 exited with status $rc, want $2; last lines of $1.log:"
		_e2e_tail_file "$LOGDIR/$1.log"
		return 1
	fi
}

# kill_proc NAME [SIG]: send SIG (default TERM) to NAME; fails if not running.
kill_proc() {
	local pid
	if ! pid=$(_e2e_proc_pid "$1"); then
		diag "kill_proc: $1 is not running (exit status $(_e2e_rc_of "$1" || echo unknown))"
		return 1
	fi
	kill "-${2:-TERM}" "$pid"
}

# stop_proc NAME [TIMEOUT_S]: TERM NAME, KILL it after TIMEOUT_S (default 5)
# if needed, and wait for it.  Succeeds whether or not it was still running.
stop_proc() {
	local rc=0
	kill_proc "$1" TERM 2>/dev/null >/dev/null || return 0
	wait_exit "$1" "${2:-5}" >/dev/null || rc=$?
	if ((rc == 124)); then
		diag "stop_proc: $1 ignored TERM for ${2:-5} s; sending KILL"
		kill_proc "$1" KILL >/dev/null || true
		wait_exit "$1" 5 || true
	fi
	return 0
}

_e2e_wait_sock() { # PROTO(t|u) NS ADDR PORT TIMEOUT [NAME]
	local proto=$1 full addr=$3 port=$4 t=$5 name=${6:-} ms deadline
	full=$(_e2e_ns_arg "$2") || return 1
	ms=$(_e2e_ms "$t") || return 1
	deadline=$(($(_e2e_now_ms) + ms))
	while :; do
		if ip netns exec "$full" ss -Hln"$proto" 2>/dev/null | awk -v a="$addr" -v p="$port" '
			{ l = $4 }
			l == a ":" p || l == "[" a "]:" p || l == "0.0.0.0:" p || l == "*:" p ||
			l == "[::]:" p { f = 1 }
			END { exit !f }'; then
			return 0
		fi
		if [[ -n $name ]] && _e2e_rc_of "$name" >/dev/null; then
			diag "wait_port: $name exited with status $(_e2e_rc_of "$name") before $addr port $port was open; last lines of $name.log:"
			_e2e_tail_file "$LOGDIR/$name.log"
			return 1
		fi
		if (($(_e2e_now_ms) >= deadline)); then
			diag "wait_port: nothing listens on $addr port $port ($([[ $proto == t ]] && echo TCP || echo UDP)) in $full after $t s"
			return 1
		fi
		sleep 0.05
	done
}

# wait_port NS ADDR PORT TIMEOUT_S [NAME]: wait until a TCP socket listens on
# ADDR:PORT (or the wildcard address) in NS; with NAME, fail at once if that
# process exits first.
wait_port() {
	_e2e_wait_sock t "$@"
}

# wait_udp NS ADDR PORT TIMEOUT_S [NAME]: the same for a bound UDP socket.
wait_udp() {
	_e2e_wait_sock u "$@"
}

# ---------------------------------------------------------------------------
# Requirements

# need_cmd CMD...: skip the whole scenario script if a command is missing.
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "needs $c (install it, e.g. sh scripts/deps.sh install-test)"
	done
	return 0
}

# need_bin NAME...: fail the script unless $BIN/NAME was built (run make).
need_bin() {
	local b
	for b in "$@"; do
		if [[ ! -x $BIN/$b ]]; then
			_e2e_record "not ok" "$E2E_NAME: $BIN/$b is not built (run: make BUILD=$BUILD)"
			exit 1
		fi
	done
	return 0
}

_e2e_requirements() {
	local probe
	if [[ $(id -u) != 0 ]]; then
		skip_all "needs root for ip netns and nftables"
	fi
	command -v ip >/dev/null 2>&1 || skip_all "needs ip (iproute2)"
	command -v nft >/dev/null 2>&1 || skip_all "needs nft (nftables)"
	command -v ss >/dev/null 2>&1 || skip_all "needs ss (iproute2)"
	command -v "$E2E_PYTHON" >/dev/null 2>&1 || skip_all "needs python3"
	probe=$RUNID-probe
	_e2e_track_ns "$probe"
	if ! ip netns add "$probe" 2>"$E2E_TMP/probe.err"; then
		_e2e_untrack_ns "$probe"
		skip_all "ip netns add failed: $(head -n 1 "$E2E_TMP/probe.err")"
	fi
	if ! ip netns exec "$probe" nft -f - 2>"$E2E_TMP/probe.err" <<'EOF'; then
table ip p2p_probe {
	chain post { type nat hook postrouting priority srcnat; masquerade random; }
	chain f { type filter hook forward priority filter; numgen random mod 100 < 1 drop; }
}
table netdev p2p_probe {
	chain i { type filter hook ingress device "lo" priority filter; policy accept; }
}
EOF
		ip netns del "$probe" 2>/dev/null || true
		_e2e_untrack_ns "$probe"
		skip_all "nftables NAT is unavailable in a namespace: $(head -n 1 "$E2E_TMP/probe.err")"
	fi
	ip netns del "$probe"
	_e2e_untrack_ns "$probe"
	if env --default-signal=INT,QUIT true 2>/dev/null; then
		# shellcheck disable=SC2054 # one argument, commas and all
		_E2E_ENVSIG=(env --default-signal=INT,QUIT)
	fi
	return 0
}

# ---------------------------------------------------------------------------
# UDP probe tool (python3), for checks of reachability and NAT behaviour.
# udp_tool NS MODE ARGS... runs it in NS in the foreground; to run it in the
# background use spawn NS NAME "${UDP_TOOL[@]}" MODE ARGS...  Modes:
#   echo ADDR PORT[,PORT...] COUNT   answer COUNT datagrams (0: forever) with
#                                    the "IP:PORT" the sender was seen as
#   probe SPORT DST DPORT[,DPORT...] from 0.0.0.0:SPORT ask each DST:DPORT,
#                                    print "DPORT IP:PORT" per answer
#   sink ADDR PORT                   count and echo datagrams; answer "end"
#                                    with "count N rcvbuf_errors N"
#   blast SPORT DST DPORT N          send N datagrams to a sink, then "end"
#                                    until answered; print "sent N echoed N
#                                    count N server_rcvbuf_errors N
#                                    client_rcvbuf_errors N"
#   first SPORT DST DPORT            send "hello", print "PAYLOAD from IP:PORT"
#                                    of the first datagram that comes back
#   poke ADDR PORT ALTADDR           wait for one datagram from X, then send
#                                    "stranger" to X from ALTADDR:PORT+1 and
#                                    "known" from ADDR:PORT
#   send SPORT DST DPORT PAYLOAD     send one datagram
#   recv ADDR PORT                   print "PAYLOAD from IP:PORT" of the first
#                                    datagram
udp_tool() {
	local full
	full=$(_e2e_ns_arg "$1") || return 1
	shift
	ip netns exec "$full" "${UDP_TOOL[@]}" "$@"
}

_e2e_write_udp_tool() {
	local py=$E2E_TMP/udp_tool.py
	UDP_TOOL=("$E2E_PYTHON" -u "$py")
	cat >"$py" <<'EOF'
import select, socket, sys

SO_RCVBUFFORCE = 33
TIMEOUT = 5.0

def udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    return s

def rcvbuf_errors():
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])

def say(*a):
    print(*a, flush=True)

def ports(s):
    return [int(p) for p in s.split(",")]

def echo(addr, plist, count):
    socks = [udp(addr, p) for p in ports(plist)]
    say("listening", addr, plist)
    n = 0
    while count == 0 or n < count:
        r, _, _ = select.select(socks, [], [])
        for s in r:
            data, a = s.recvfrom(65535)
            say("from %s:%d to port %d: %r" % (a[0], a[1], s.getsockname()[1], data[:40]))
            s.sendto(("%s:%d" % a).encode(), a)
            n += 1

def probe(sport, dst, plist):
    s = udp("0.0.0.0", sport)
    for p in ports(plist):
        for _ in range(3):
            s.sendto(b"probe", (dst, p))
            r, _, _ = select.select([s], [], [], TIMEOUT / 3)
            if not r:
                continue
            data, a = s.recvfrom(65535)
            if a == (dst, p):
                say(p, data.decode())
                break
        else:
            say("no answer from %s:%d" % (dst, p))
            sys.exit(1)

def sink(addr, port):
    s = udp(addr, port)
    base = rcvbuf_errors()
    say("listening", addr, port)
    n = 0
    while True:
        data, a = s.recvfrom(65535)
        if data == b"end":
            s.sendto(b"count %d rcvbuf_errors %d" % (n, rcvbuf_errors() - base), a)
            say("count", n)
        else:
            n += 1
            s.sendto(data, a)

def blast(sport, dst, dport, n):
    s = udp("0.0.0.0", sport)
    base = rcvbuf_errors()
    for i in range(n):
        s.sendto(b"d%06d" % i, (dst, dport))
    echoed = 0
    for _ in range(200):
        s.sendto(b"end", (dst, dport))
        while True:
            r, _, _ = select.select([s], [], [], 0.05)
            if not r:
                break
            data, a = s.recvfrom(65535)
            if data.startswith(b"count "):
                f = data.decode().split()
                say("sent %d echoed %d count %s server_rcvbuf_errors %s client_rcvbuf_errors %d"
                    % (n, echoed, f[1], f[3], rcvbuf_errors() - base))
                return
            echoed += 1
    say("the sink never answered 'end'")
    sys.exit(1)

def first(sport, dst, dport):
    s = udp("0.0.0.0", sport)
    s.sendto(b"hello", (dst, dport))
    r, _, _ = select.select([s], [], [], TIMEOUT)
    if not r:
        say("nothing came back")
        sys.exit(1)
    data, a = s.recvfrom(65535)
    say("%s from %s:%d" % (data.decode(), a[0], a[1]))

def poke(addr, port, alt):
    s = udp(addr, port)
    t = udp(alt, port + 1)
    say("listening", addr, port)
    data, a = s.recvfrom(65535)
    say("from %s:%d" % a)
    t.sendto(b"stranger", a)
    s.sendto(b"known", a)

def send(sport, dst, dport, payload):
    s = udp("0.0.0.0", sport)
    s.sendto(payload.encode(), (dst, dport))

def recv(addr, port):
    s = udp(addr, port)
    say("listening", addr, port)
    data, a = s.recvfrom(65535)
    say("%s from %s:%d" % (data.decode(), a[0], a[1]))

m, a = sys.argv[1], sys.argv[2:]
if m == "echo": echo(a[0], a[1], int(a[2]))
elif m == "probe": probe(int(a[0]), a[1], a[2])
elif m == "sink": sink(a[0], int(a[1]))
elif m == "blast": blast(int(a[0]), a[1], int(a[2]), int(a[3]))
elif m == "first": first(int(a[0]), a[1], int(a[2]))
elif m == "poke": poke(a[0], int(a[1]), a[2])
elif m == "send": send(int(a[0]), a[1], int(a[2]), a[3])
elif m == "recv": recv(a[0], int(a[1]))
else:
    sys.exit("udp_tool: unknown mode " + m)
EOF
}

# ---------------------------------------------------------------------------
# Start-up: temporary directory, traps, requirements.

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$RUNID.XXXXXX")
LOGDIR=$E2E_TMP/logs
_E2E_ST=$E2E_TMP/state
mkdir -p "$LOGDIR" "$_E2E_ST/proc"
: >"$_E2E_ST/results"
: >"$_E2E_ST/netns"
: >"$_E2E_ST/veths"
: >"$_E2E_ST/procs"
export E2E_TMP LOGDIR RUNID

trap _e2e_on_exit EXIT
trap '_e2e_on_signal INT 130' INT
trap '_e2e_on_signal TERM 143' TERM
trap '_e2e_on_signal HUP 129' HUP
trap _e2e_on_err ERR

_e2e_requirements
_e2e_write_udp_tool
diag "$E2E_NAME: run id $RUNID, files in $E2E_TMP"
