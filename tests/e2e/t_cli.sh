#!/usr/bin/env bash
# t_cli.sh: connectd's command line end to end, as the seed document uses it:
# the -c one-liner, a provisioning file run in the background, -d with a pid
# file, credentials wiped from the process's command line, every exit code
# that one machine can provoke (each with its "!!exit" line), and connectd -n
# behind port-preserving, symmetric and UDP-blocking routers. Also -p with
# every parameter, -e, the -s lines in order, !!throughput every 10 s adding
# up to the bytes carried, and connectd -h and connectd(8) agreeing on exit
# codes and provisioning keys. (connectd -n against a standard STUN server,
# and each of its failure messages: t_diag.sh.)
#
# Exit codes 10, 11 and 14 are tested in t_rendezvous.sh, 20 in t_tunnel.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p2plib.sh"
need_bin rendezvousd connectd
need_cmd curl ps timeout sysctl
p2p_accounts

# The seed's account and device: the one-liner's base64 strings decode to
# these. The device secret is ours (the seed shows none).
SEED_USER=yourname@example.com
SEED_PASS='sup3rsekret!'
SEED_USER_B64=eW91cm5hbWVAZXhhbXBsZS5jb20=
SEED_PASS_B64=c3VwM3JzZWtyZXQh
SEED_UID=80:00:00:00:00:00:00:F1
SEED_SECRET=seed-device-secret-0123456789
SEED_HASH=$("$CONNECTD" --hash "$SEED_USER" "$SEED_PASS")
SEED_CONF=$E2E_ROOT/conf.d/seed-initiator.conf.example

# ---------------------------------------------------------------------------
# Helpers

# run_cd NAME NS|- ARGS...: connectd in the foreground in NS ("-": here, for
# runs that use no network), at most 30 s; stdout in $E2E_TMP/NAME.out,
# stderr in $E2E_TMP/NAME.err, the exit status in $E2E_TMP/NAME.rc.
run_cd() {
	local name=$1 nsarg=$2 rc=0
	shift 2
	if [[ $nsarg == - ]]; then
		env -u P2PD_SUPERVISED -u P2PD_STATUS_FD timeout 30 "$CONNECTD" "$@" \
			>"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err" </dev/null || rc=$?
	else
		nsx "$nsarg" env -u P2PD_SUPERVISED -u P2PD_STATUS_FD timeout 30 "$CONNECTD" "$@" \
			>"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err" </dev/null || rc=$?
	fi
	echo "$rc" >"$E2E_TMP/$name.rc"
}

# exits_with CODE NAME NS|- ARGS...: connectd exits with CODE and the last
# line of its stdout is "!!exit CODE : <a message>".
exits_with() {
	local want=$1 name=$2 rc last
	shift 2
	run_cd "$name" "$@"
	rc=$(cat "$E2E_TMP/$name.rc")
	last=$(tail -n 1 "$E2E_TMP/$name.out")
	if [[ $rc != "$want" || ! $last =~ ^!!exit\ $want\ :\ .+ ]]; then
		diag "connectd $(_e2e_quote "${@:2}"): exit status $rc (want $want); last stdout line '$last'"
		show "$E2E_TMP/$name.out" "$E2E_TMP/$name.err"
		return 1
	fi
}

# mentions NAME TEXT...: connectd's stdout or stderr holds every TEXT.
mentions() {
	local name=$1 t
	shift
	for t in "$@"; do
		if ! grep -qF -- "$t" "$E2E_TMP/$name.out" "$E2E_TMP/$name.err"; then
			diag "'$t' is not in the output"
			show "$E2E_TMP/$name.out" "$E2E_TMP/$name.err"
			return 1
		fi
	done
}

# spawn_cd NS NAME ARGS...: connectd in the background; stdout in NAME's log,
# stderr in $E2E_TMP/NAME.err (so the log holds the stdout lines alone).
spawn_cd() {
	local nsarg=$1 name=$2
	shift 2
	: >"$E2E_TMP/$name.err"
	# shellcheck disable=SC2016 # expanded by that bash
	spawn "$nsarg" "$name" bash -c 'exec 2>>"$0"; exec "$@"' "$E2E_TMP/$name.err" \
		env -u P2PD_SUPERVISED -u P2PD_STATUS_FD "P2P_SERVER=$IP_RDV:5959" "$CONNECTD" "$@"
}

# last_exit NAME CODE: the last stdout line of NAME is "!!exit CODE : ...".
last_exit() {
	local last
	last=$(tail -n 1 "$(log_of "$1")")
	if [[ ! $last =~ ^!!exit\ $2\ :\ .+ ]]; then
		diag "last stdout line of $1: '$last' (want !!exit $2 : ...)"
		show "$(log_of "$1")" "$E2E_TMP/$1.err"
		return 1
	fi
}

# exit_line_says NAME REGEX: NAME's "!!exit" line matches REGEX.
exit_line_says() {
	if ! grep -Eq -- "^!!exit [0-9]+ : .*$2" "$(log_of "$1")"; then
		show "$(log_of "$1")" "$E2E_TMP/$1.err"
		return 1
	fi
}

# seed_rdv: rendezvousd with the standard accounts plus the seed's.
seed_rdv() {
	p2p_rdv_conf "" \
		"[user $SEED_USER]" "auth_hash = $SEED_HASH" "allow = *" "" \
		"[device $SEED_UID]" "secret = $SEED_SECRET" "name = seed"
	p2p_start_rdv
}

# target NAME UID SECRET DESTPORT [LINES...]: a registered target in $NS_TGT.
target() {
	local name=$1 uid=$2 secret=$3 port=$4
	shift 4
	p2p_target_conf "$E2E_TMP/$name.conf" "proxy_dest_port $port" "$@"
	sed -i -e "s/^UID .*/UID $uid/" -e "s/^secret .*/secret $secret/" "$E2E_TMP/$name.conf"
	spawn_cd "$NS_TGT" "$name" -s -f "$E2E_TMP/$name.conf"
	wait_log "$name" '^!!status registered' 10
}

# initiator_conf FILE PORT [LINES...]: the standard initiator for $P2P_UID.
initiator_conf() {
	local f=$1 port=$2
	shift 2
	p2p_initiator_conf "$f" "$@"
	sed -i "s/^proxy_local_port .*/proxy_local_port $port/" "$f"
}

# web: a web server behind the target on 127.0.0.1:8080 serving a blob.
web() {
	mkdir -p "$E2E_TMP/www"
	p2p_blob "$E2E_TMP/www/blob" 300000
	p2p_web "$NS_TGT" web 127.0.0.1 8080 "$E2E_TMP/www"
}

# ---------------------------------------------------------------------------
# Without a network: the forms that end before any packet is sent.

b64_of() { printf %s "$1" | base64 -w0; }

version_form() {
	local out
	out=$("$CONNECTD" --version)
	grep -q '^connectd ' <<<"$out"
}

help_form() {
	local out
	out=$("$CONNECTD" -h)
	grep -q '^usage: connectd' <<<"$out"
}

empty_hash_user() {
	local rc=0
	"$CONNECTD" --hash "" x >/dev/null 2>&1 || rc=$?
	((rc == 64))
}

hash_form() {
	local out
	out=$("$CONNECTD" --hash "$SEED_USER" "$SEED_PASS")
	[[ $out =~ ^[0-9a-f]{40}$ ]]
	[[ $out == "$SEED_HASH" ]]
	[[ $("$CONNECTD" --hash other@example.com "$SEED_PASS") != "$out" ]]
}

check_ok_file() {
	run_cd check -  --check -f "$E2E_TMP/good.conf"
	[[ $(cat "$E2E_TMP/check.rc") == 0 ]]
	mentions check "user_id $P2P_USER" "remote_address $P2P_UID" "proxy_local_port 33000" \
		"auth_hash (hidden)"
	! grep -qF -- "$P2P_HASH" "$E2E_TMP/check.out" "$E2E_TMP/check.err"
}

# The exit codes connectd.8 lists (".It N" under EXIT STATUS) and those
# connectd -h lists ("N word" after "Exit codes:"), one a line, sorted.
codes_of_man() {
	awk '/^\.Sh / { on = ($2 == "EXIT") } on && /^\.It [0-9]+$/ { print $2 }' \
		"$E2E_ROOT/docs/man/connectd.8" | sort -n
}
codes_of_help() {
	"$CONNECTD" -h | sed -n '/^Exit codes:/,$p' | grep -oE '(^|[ :,])[0-9]+ [a-zA-Z]' |
		grep -oE '[0-9]+' | sort -n
}
help_lists_exit_codes() {
	local man help
	man=$(codes_of_man)
	help=$(codes_of_help)
	diag "connectd.8: ${man//$'\n'/ }" "connectd -h: ${help//$'\n'/ }"
	[[ -n $man && $man == "$help" ]]
}

# Every key --check prints for an initiator and for a target file is
# described in connectd.8 (as ".It Cm key").
man_has_every_key() {
	local f key rc=0
	p2p_target_conf "$E2E_TMP/keys-t.conf"
	for f in "$E2E_TMP/good.conf" "$E2E_TMP/keys-t.conf"; do
		while read -r key _; do
			[[ $key == \#* || -z $key ]] && continue
			grep -qx "\.It Cm $key" "$E2E_ROOT/docs/man/connectd.8" || {
				diag "$(basename "$f"): key '$key' is not in connectd.8"
				rc=1
			}
		done < <("$CONNECTD" --check -f "$f")
	done
	return $rc
}

no_network() {
	IP_RDV=203.0.113.1 # only written into files: nothing here is sent anywhere
	check "the seed's base64 strings are the seed account's user and password" \
		test "$(b64_of "$SEED_USER") $(b64_of "$SEED_PASS")" = "$SEED_USER_B64 $SEED_PASS_B64"
	check "--version exits 0 and names connectd" version_form
	check "-h exits 0 and prints the usage" help_form
	check "--hash prints the 40-hex auth_hash (per user)" hash_form
	check "--hash with an empty user is a usage error (64)" empty_hash_user

	# 64: usage.
	check "an unknown option exits 64 with a !!exit line" exits_with 64 usage1 - -s -x -f x.conf
	check "and names the option" mentions usage1 "'-x'"
	check "-f without its argument exits 64 with a !!exit line" exits_with 64 usage2 - -s -f
	check "and says so" mentions usage2 "-f needs an argument"
	check "-c with too few parameters exits 64 with a !!exit line" \
		exits_with 64 usage3 - -s -c "$SEED_USER_B64" "$SEED_PASS_B64" "$SEED_UID"
	check "an option after -c's parameters exits 64 with a !!exit line" \
		exits_with 64 usage4 - -s -c "$SEED_USER_B64" "$SEED_PASS_B64" "$SEED_UID" T33000 2 -d
	check "and says -c must come last" mentions usage4 "-c must come last: '-d'"
	check "-p with a bad encryption mode exits 78 naming parameter 5" \
		exits_with 78 badenc - -s -p "$SEED_USER_B64" "$SEED_HASH" "$SEED_UID" T33000 7
	check "(the message names the parameter and the modes)" \
		mentions badenc "parameter 5 (encryption) '7': expected 0 (none), 1 (RC4), 2 (XXTEA)"

	# 78: invalid provisioning, also for --check.
	p2p_initiator_conf "$E2E_TMP/good.conf"
	p2p_initiator_conf "$E2E_TMP/bad.conf" "proxy_local_port 0"
	check "a provisioning file with a bad value exits 78 with a !!exit line" \
		exits_with 78 bad - -s -f "$E2E_TMP/bad.conf"
	check "and the error names the file, the line and the key" \
		mentions bad "$E2E_TMP/bad.conf:6: proxy_local_port"
	check "--check of that file exits 78 with a !!exit line" \
		exits_with 78 badcheck - -s --check -f "$E2E_TMP/bad.conf"
	check "--check of a good file exits 0 and prints it with the secret hidden" check_ok_file
	check "connectd.8 describes every provisioning key --check prints" man_has_every_key
	check "connectd -h lists the same exit codes as connectd.8" help_lists_exit_codes
	check "-y with a port out of range exits 78 with a !!exit line" \
		exits_with 78 bady - -s -y 203.0.113.1:99999 -f "$E2E_TMP/good.conf"
	check "and names -y and what it should look like" \
		mentions bady "-y '203.0.113.1:99999'" "host[:port]"
	grep -v '^server ' "$E2E_TMP/good.conf" >"$E2E_TMP/noserver.conf"
	chmod 600 "$E2E_TMP/noserver.conf"
	bad_env_server() { # the variable reaches connectd through run_cd
		P2P_SERVER=203.0.113.1:99999 exits_with 78 badenv - -s -f "$E2E_TMP/noserver.conf"
	}
	check "a malformed P2P_SERVER exits 78 with a !!exit line" bad_env_server
	check "and names P2P_SERVER" mentions badenv "(from P2P_SERVER)" "host[:port]"
	chmod 644 "$E2E_TMP/good.conf"
	check "a file with credentials readable by others exits 78" \
		exits_with 78 perms - -s -f "$E2E_TMP/good.conf"
	check "and says to chmod 600 it" mentions perms "chmod 600"
	chmod 600 "$E2E_TMP/good.conf"
	check "-c with a bad UID exits 78 naming parameter 3" \
		exits_with 78 baduid - -s -c "$SEED_USER_B64" "$SEED_PASS_B64" 80:00:00 T33000 2
	check "(the message names the parameter)" mentions baduid "parameter 3 (UID) '80:00:00'"
	check "-c with T70000 exits 78 naming parameter 4" \
		exits_with 78 badport - -s -p "$SEED_USER_B64" "$SEED_HASH" "$SEED_UID" T70000 2
	check "(the message names the parameter)" mentions badport "parameter 4 (local port) 'T70000'"

	# 4: autoconnect 0 without a supervisor.
	p2p_initiator_conf "$E2E_TMP/manual.conf" "autoconnect 0"
	check "autoconnect 0 without p2pd exits 4 with a !!exit line" \
		exits_with 4 manual - -s -f "$E2E_TMP/manual.conf"
}
scenario "command line forms that need no network" no_network

# ---------------------------------------------------------------------------
# The seed's three ways, through real NATs.

cmdline_clean() { # the running initiator's argv no longer holds the credentials
	argv_lacks "$1" "$SEED_USER_B64" "$SEED_PASS_B64"
	tr '\0' ' ' <"/proc/$(pid_of "$1")/cmdline" | grep -qF -- "$SEED_UID T33000 2" # the right process
}

proxy_lines() { # proxy_lines NAME PORT: exactly the seed's two lines, in order
	local log s p
	log=$(log_of "$1")
	s=$(grep -nx "Starting Proxy on port $2 on index 1\\." "$log" | head -n 1 | cut -d: -f1)
	p=$(grep -nx 'Proxy started\.' "$log" | head -n 1 | cut -d: -f1)
	if [[ -z $s || -z $p ]] || ((s > p)); then
		show "$log"
		return 1
	fi
}

daemon_gone() { ! kill -0 "$1" 2>/dev/null; }

# status_order NAME: NAME's stdout holds the -s status lines of a tunnel that
# came up, in order: "!!status connecting", "!!connected", "!!path ...", with
# "Proxy started." after "!!connected", and "!!exit" last.
status_order() {
	local log re i=0 n
	local -a lines
	log=$(log_of "$1")
	mapfile -t lines <"$log"
	n=${#lines[@]}
	for re in '^!!status connecting$' '^!!connected$' \
		'^!!path (direct|relay) peer=[0-9.]+:[0-9]+ handshake_ms=[0-9]+$' \
		'^Proxy started\.$' '^!!exit [0-9]+ : .+'; do
		while ((i < n)) && [[ ! ${lines[i]} =~ $re ]]; do i=$((i + 1)); done
		if ((i >= n)); then
			diag "no line matching '$re' after the ones before it"
			show "$log"
			return 1
		fi
		i=$((i + 1))
	done
	((i == n)) || {
		diag "lines after the !!exit line"
		show "$log"
		return 1
	}
}

# argv_lacks NAME TEXT...: NAME (a running connectd) shows none of TEXT in
# /proc/PID/cmdline or ps.
argv_lacks() {
	local name=$1 pid exe cmd psout t
	shift
	pid=$(pid_of "$name")
	exe=$(readlink -f "/proc/$pid/exe")
	[[ $exe == "$(readlink -f "$CONNECTD")" ]] || {
		diag "pid $pid is $exe, not connectd"
		return 1
	}
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
	psout=$(ps -o args= -p "$pid")
	diag "/proc/$pid/cmdline: $cmd"
	diag "ps: $psout"
	for t in "$@"; do
		if grep -qF -- "$t" <<<"$cmd" || grep -qF -- "$t" <<<"$psout"; then
			diag "still shown: $t"
			return 1
		fi
	done
}

daemonize() {
	local conf=$E2E_TMP/daemon.conf pidf=$E2E_TMP/connectd.pid t0 t1 rc=0 pid
	cp "$SEED_CONF" "$conf"
	sed -i -e "s/^user_id .*/user_id $SEED_USER/" -e "s/^auth_pass .*/auth_pass $SEED_PASS/" \
		-e "s/^proxy_local_port .*/proxy_local_port 33301/" "$conf"
	chmod 600 "$conf"
	t0=$(_e2e_now_ms)
	nsx "$NS_INI" env "P2P_SERVER=$IP_RDV:5959" timeout 20 "$CONNECTD" -d "$pidf" -f "$conf" \
		>"$E2E_TMP/daemon.out" 2>&1 </dev/null || rc=$?
	t1=$(_e2e_now_ms)
	check "-d: the parent returns 0" test "$rc" = 0
	check "-d: the parent returns promptly (in $((t1 - t0)) ms, well before the tunnel is up)" \
		test $((t1 - t0)) -lt 5000
	require "-d: the pid file appears" wait_for 5 test -s "$pidf"
	pid=$(cat "$pidf")
	check "-d: the pid file holds the daemon's pid (a running connectd)" \
		test "$(readlink -f "/proc/$pid/exe")" = "$(readlink -f "$CONNECTD")"
	check "-d: the daemon runs in the initiator's namespace, detached (its own session)" \
		test "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid"
	check "-d: the daemon's tunnel carries data" p2p_fetch_sha 33301 "$E2E_TMP/www/blob" 30
	kill "$pid"
	check "-d: kill \$(cat pidfile) ends it" wait_for 5 daemon_gone "$pid"
}

seed_examples() {
	topo_two_nats masq masq
	seed_rdv
	web
	target tseed "$SEED_UID" "$SEED_SECRET" 8080
	target tweb "$P2P_UID" "$P2P_SECRET" 8080

	# Option 1: the one-liner, exactly as the seed prints it (the server
	# comes from P2P_SERVER, so the command line is the seed's).
	spawn_cd "$NS_INI" ini -s -c "$SEED_USER_B64" "$SEED_PASS_B64" "$SEED_UID" T33000 2
	require "the one-liner prints 'Proxy started.'" wait_log ini '^Proxy started\.' 20
	check "it printed exactly 'Starting Proxy on port 33000 on index 1.' then 'Proxy started.'" \
		proxy_lines ini 33000
	check "the one-liner's tunnel carries data (curl, sha256)" p2p_fetch_sha 33000 "$E2E_TMP/www/blob" 30
	check "ps and /proc/PID/cmdline no longer show the user or password" cmdline_clean ini
	kill_proc ini INT
	check "CTRL-C (SIGINT) ends it with exit 3" expect_exit ini 3 5
	check "and '!!exit 3 : ...' is its last line" last_exit ini 3
	check "-s: !!status connecting, !!connected, !!path, then the seed's lines, then !!exit" \
		status_order ini

	# Option 3: the seed's sample provisioning file, in the background.
	cp "$SEED_CONF" "$E2E_TMP/SSH-Pi.txt"
	sed -i -e "s/^user_id .*/user_id $SEED_USER/" -e "s/^auth_pass .*/auth_pass $SEED_PASS/" \
		"$E2E_TMP/SSH-Pi.txt"
	chmod 600 "$E2E_TMP/SSH-Pi.txt"
	spawn_cd "$NS_INI" opt3 -f "$E2E_TMP/SSH-Pi.txt"
	require "connectd -f with the seed's sample file prints 'Proxy started.'" \
		wait_log opt3 '^Proxy started\.' 20
	check "it printed the seed's two lines for port 33300" proxy_lines opt3 33300
	check "its tunnel carries data" p2p_fetch_sha 33300 "$E2E_TMP/www/blob" 30
	check "it warns that auth_pass is discouraged" grep -q 'auth_pass is discouraged' \
		"$E2E_TMP/opt3.err"
	kill_proc opt3 TERM
	check "kill PID ends it with exit 3" expect_exit opt3 3 5

	# -d pidfile
	daemonize
}
scenario "the seed's examples" seed_examples

# ---------------------------------------------------------------------------
# -p with every parameter, -e, and !!throughput during a transfer.

# n_lines NAME REGEX N: NAME's log has at least N lines matching REGEX.
n_lines() {
	(($(grep -cE -- "$2" "$(log_of "$1")" || true) >= $3))
}

# one_per_10s NAME T0: NAME, started at T0 (ms) and up since, has printed one
# "!!throughput" line per full 10 s (give or take one).
one_per_10s() {
	local n want
	n=$(grep -c '^!!throughput ' "$(log_of "$1")" || true)
	want=$((($(_e2e_now_ms) - $2) / 10000))
	diag "$1: $n !!throughput lines in $((($(_e2e_now_ms) - $2) / 1000)) s"
	((n >= 1 && n >= want - 1 && n <= want + 1))
}

# throughput_adds_up NAME FIELD BYTES: the FIELD (rxBps or txBps) values of
# NAME's "!!throughput" lines, each the rate over its 10 s window, add up to
# BYTES (within 1%).
throughput_adds_up() {
	local sum
	sum=$(sed -nE "s/^!!throughput .*$2=([0-9]+).*/\1/p" "$(log_of "$1")" |
		awk '{ s += $1 } END { print s * 10 }')
	diag "$1: $2 x 10 s summed over $(grep -c '^!!throughput ' "$(log_of "$1")") lines: $sum bytes; $3 bytes went through"
	((sum * 100 >= $3 * 99 && sum * 100 <= $3 * 101))
}

# big_fetch PORT: download big through PORT, check its sha256, and write the
# bytes the initiator passed to curl (headers and body) to $E2E_TMP/big.bytes.
big_fetch() {
	local sizes body hdr
	sizes=$(nsx "$NS_INI" curl --noproxy '*' -sS --max-time 60 -o "$E2E_TMP/got.big" \
		-w '%{size_download} %{size_header}' "http://127.0.0.1:$1/big")
	read -r body hdr <<<"$sizes"
	cmp "$E2E_TMP/got.big" "$E2E_TMP/www/big"
	rm -f "$E2E_TMP/got.big"
	echo $((body + hdr)) >"$E2E_TMP/big.bytes"
}

p_e_throughput() {
	local b64user b64
	topo_two_nats masq masq
	p2p_rdv_conf
	p2p_start_rdv
	web
	p2p_blob "$E2E_TMP/www/big" 5000000
	target tgt "$P2P_UID" "$P2P_SECRET" 8080
	b64user=$(b64_of "$P2P_USER")

	# The initiator for the !!throughput checks below runs all along.
	local t0 n
	initiator_conf "$E2E_TMP/tp.conf" 33412
	t0=$(_e2e_now_ms)
	spawn_cd "$NS_INI" tp -s -f "$E2E_TMP/tp.conf"

	# -p with all ten parameters (restrict ip 127.0.0.1, lifetime and idle 0).
	spawn_cd "$NS_INI" ip -s -p "$b64user" "$P2P_HASH" "$P2P_UID" T33410 3 127.0.0.1 \
		127.0.0.1 12 0 0
	require "-p with all ten parameters prints 'Proxy started.'" \
		wait_log ip '^Proxy started\.' 20
	check "it printed the seed's two lines for port 33410" proxy_lines ip 33410
	check "its tunnel carries data (curl, sha256)" p2p_fetch_sha 33410 "$E2E_TMP/www/blob" 30
	check "ps no longer shows the user or the auth_hash" argv_lacks ip "$b64user" "$P2P_HASH"

	# -e: the provisioning file's text, base64-encoded.
	initiator_conf "$E2E_TMP/e.conf" 33411
	b64=$(base64 -w0 <"$E2E_TMP/e.conf")
	spawn_cd "$NS_INI" ie -s -e "$b64"
	require "-e BASE64 prints 'Proxy started.'" wait_log ie '^Proxy started\.' 20
	check "it printed the seed's two lines for port 33411" proxy_lines ie 33411
	check "its tunnel carries data (curl, sha256)" p2p_fetch_sha 33411 "$E2E_TMP/www/blob" 30
	check "ps no longer shows the base64 provisioning" argv_lacks ie "$b64" "${b64:0:16}"
	kill_proc ie TERM
	check "kill PID ends it with exit 3" expect_exit ie 3 5
	check "and '!!exit 3 : ...' is its last line" last_exit ie 3

	# !!throughput: an initiator that carries one 5 MB download and nothing
	# else; its lines, each the rate of one 10 s window, account for every byte.
	require "an initiator for the download connects" wait_log tp '^Proxy started\.' 20
	require "a 5 MB download through it arrives intact" big_fetch 33412
	n=$(grep -c '^!!throughput ' "$(log_of tp)" || true)
	require "-s: a !!throughput line follows the download" \
		wait_for 12 n_lines tp '^!!throughput ' $((n + 1))
	check "-s: one !!throughput line every 10 s" one_per_10s tp "$t0"
	check "-s: the initiator's rxBps lines add up to the bytes it delivered" \
		throughput_adds_up tp rxBps "$(cat "$E2E_TMP/big.bytes")"
	check "-s: the target reports the bytes it sent (txBps > 0)" \
		wait_for 12 n_lines tgt '^!!throughput txBps=[1-9][0-9]* rxBps=[0-9]+$' 1
	kill_proc ip INT
	check "CTRL-C ends -p with exit 3" expect_exit ip 3 5
	check "and '!!exit 3 : ...' is its last line" last_exit ip 3
}
scenario "-p with every parameter, -e, !!throughput" p_e_throughput

# ---------------------------------------------------------------------------
# Exit codes that need a network.

# peers_udp_blocked on|off: each NAT drops UDP from the other NAT's address
# (the rendezvous server stays reachable), so no direct path can form.
peers_udp_blocked() {
	if [[ $1 == on ]]; then
		peer_drop "$NS_NATI" "$IP_NATT"
		peer_drop "$NS_NATT" "$IP_NATI"
	else
		nsx "$NS_NATI" nft delete table netdev h12_peer
		nsx "$NS_NATT" nft delete table netdev h12_peer
	fi
}

peer_drop() { # peer_drop NAT_NS FROM_IP: the router's WAN drops UDP from FROM_IP
	nsx "$1" nft -f - <<EOF
table netdev h12_peer {
	chain ingress {
		type filter hook ingress device "$IF_NAT_WAN" priority filter; policy accept;
		ip saddr $2 ip protocol udp counter drop
	}
}
EOF
}

# 16: no ephemeral UDP port left in the initiator's namespace. (RLIMIT_NOFILE
# cannot provoke it: the dynamic loader needs the same descriptor before main,
# so a limit that leaves none for the UDP socket stops the loader first.)
bind_udp_fails() {
	local range
	range=$(nsx "$NS_INI" sysctl -n net.ipv4.ip_local_port_range)
	nsx "$NS_INI" sysctl -qw net.ipv4.ip_local_port_range="40000 40001"
	spawn "$NS_INI" occ0 "${UDP_TOOL[@]}" recv 0.0.0.0 40000
	spawn "$NS_INI" occ1 "${UDP_TOOL[@]}" recv 0.0.0.0 40001
	wait_udp "$NS_INI" 0.0.0.0 40000 5 occ0
	wait_udp "$NS_INI" 0.0.0.0 40001 5 occ1
	initiator_conf "$E2E_TMP/i16.conf" 33016
	check "no UDP port to bind: exit 16 with a !!exit line" \
		exits_with 16 i16 "$NS_INI" -s -f "$E2E_TMP/i16.conf"
	check "(stderr says why)" mentions i16 "cannot bind a UDP socket"
	stop_proc occ0
	stop_proc occ1
	nsx "$NS_INI" sysctl -qw net.ipv4.ip_local_port_range="$range"
}

exit_codes() {
	topo_two_nats masq masq
	# No relay: exit 21 (no path at all) needs the relay fallback off.
	p2p_rdv_conf "relay = no"
	p2p_start_rdv
	target tgt "$P2P_UID" "$P2P_SECRET" 8080

	# 13: nothing answers on the server's port (about ten seconds): started
	# first, checked last.
	initiator_conf "$E2E_TMP/i13.conf" 33013
	spawn_cd "$NS_INI" i13 -s -y "$IP_RDV:5999" -f "$E2E_TMP/i13.conf"

	# 17: the proxy port is taken.
	spawn "$NS_INI" busy "$E2E_PYTHON" -m http.server 33017 --bind 127.0.0.1 \
		--directory "$E2E_TMP"
	wait_port "$NS_INI" 127.0.0.1 33017 10 busy
	initiator_conf "$E2E_TMP/i17.conf" 33017
	check "the proxy port in use: exit 17 with a !!exit line" \
		exits_with 17 i17 "$NS_INI" -s -f "$E2E_TMP/i17.conf"
	check "(the message names the address)" mentions i17 "127.0.0.1:33017"
	stop_proc busy

	# 1: idle limit.
	initiator_conf "$E2E_TMP/i1.conf" 33001 "idle_limit 2"
	spawn_cd "$NS_INI" i1 -s -f "$E2E_TMP/i1.conf"
	require "the idle-limited initiator connects" wait_log i1 '^Proxy started\.' 15
	check "idle_limit 2 with no traffic: exit 1" expect_exit i1 1 6
	check "with '!!exit 1 : ...' as the last line" last_exit i1 1
	check "saying it was the idle limit" exit_line_says i1 'idle'

	# The idle limit counts from the tunnel, not from the start: an initiator
	# that needs longer than idle_limit to connect still connects.
	block_udp "$NS_NATI" "$IF_NAT_WAN"
	initiator_conf "$E2E_TMP/i1b.conf" 33002 "idle_limit 2"
	spawn_cd "$NS_INI" i1b -s -f "$E2E_TMP/i1b.conf"
	local rc=0
	wait_exit i1b 3.5 || rc=$?
	check "idle_limit 2: still trying to connect after 3.5 s (exit status $rc; 124 = running)" \
		test "$rc" = 124
	unblock_udp "$NS_NATI" "$IF_NAT_WAN"
	check "idle_limit 2: connects once the network is back" wait_log i1b '^Proxy started\.' 15
	stop_proc i1b

	# 21: the target is registered but no UDP passes between the peers.
	peers_udp_blocked on
	initiator_conf "$E2E_TMP/i21.conf" 33021 "punch_timeout 2"
	spawn_cd "$NS_INI" i21 -s -f "$E2E_TMP/i21.conf"
	check "no direct path within punch_timeout 2: exit 21" expect_exit i21 21 12
	check "with '!!exit 21 : ...' as the last line" last_exit i21 21
	check "saying the P2P connect failed" exit_line_says i21 'P2P connect failed|not confirmed'
	peers_udp_blocked off

	# 2: the target shuts down while an initiator is connected.
	initiator_conf "$E2E_TMP/i2.conf" 33022
	spawn_cd "$NS_INI" i2 -s -f "$E2E_TMP/i2.conf"
	require "an initiator connects" wait_log i2 '^Proxy started\.' 15
	kill_proc tgt INT
	check "the target exits 3 on SIGINT" expect_exit tgt 3 5
	check "the initiator then exits 2 (shutdown by peer)" expect_exit i2 2 10
	check "with '!!exit 2 : ...' as the last line" last_exit i2 2
	check "saying the peer shut down" exit_line_says i2 'shutdown by peer'

	# 16, and running out of descriptors is an exit, not a crash.
	bind_udp_fails
	initiator_conf "$E2E_TMP/ifd.conf" 33023
	for n in 5 6; do
		check "with ulimit -n $n: a clean exit with a !!exit line, not an abort" \
			nofile_exit "$n" "$E2E_TMP/ifd.conf"
	done

	check "nothing answers at the server's address: exit 13 within 25 s" expect_exit i13 13 25
	check "with '!!exit 13 : ...' as the last line" last_exit i13 13
	check "saying the server did not answer" exit_line_says i13 'no answer'
}

nofile_exit() { # nofile_exit N FILE: connectd with RLIMIT_NOFILE = N
	local rc=0 last
	# In a sanitizer build the sanitizer itself needs descriptors at exit (its
	# report file, the leak checker's /proc reads): with five it cannot work,
	# so here it reports to stderr and skips the leak check.
	# shellcheck disable=SC2016 # expanded by that bash
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=stderr:detect_leaks=0" \
		nsx "$NS_INI" bash -c 'ulimit -n "$1"; shift; exec "$@"' _ "$1" timeout 10 "$CONNECTD" \
		-s -f "$2" >"$E2E_TMP/nofile.out" 2>"$E2E_TMP/nofile.err" </dev/null || rc=$?
	last=$(tail -n 1 "$E2E_TMP/nofile.out")
	diag "exit status $rc, last stdout line '$last'"
	if ((rc == 0 || rc >= 124)) || [[ ! $last =~ ^!!exit\ $rc\ : ]]; then
		show "$E2E_TMP/nofile.out" "$E2E_TMP/nofile.err"
		return 1
	fi
}
scenario "exit codes" exit_codes

# ---------------------------------------------------------------------------
# connectd -n

diag_ok() { # diag_ok NAME: every self-test passed, little endian
	mentions "$1" "Endian : Little"
	grep -Eq '^[A-Za-z0-9 -]+ test: \[OK\]$' "$E2E_TMP/$1.out"
	if grep -q 'test: \[FAILED\]' "$E2E_TMP/$1.out"; then
		diag "a self-test failed"
		return 1
	fi
	local n
	n=$(grep -c ' test: ' "$E2E_TMP/$1.out")
	diag "$n self-tests"
	((n >= 3))
}

net_diag() {
	topo_two_nats masq sym
	p2p_rdv_conf "alt_port = 5960"
	p2p_start_rdv
	wait_udp "$NS_RDV" "$IP_RDV" 5960 5 rdv

	run_cd nmasq "$NS_INI" -n -y "$IP_RDV:5959"
	check "behind masquerade: exit 0" test "$(cat "$E2E_TMP/nmasq.rc")" = 0
	check "behind masquerade: the router preserves ports" \
		mentions nmasq "This router preserves ports"
	check "behind masquerade: and does not remap" \
		mentions nmasq "This router doesn't remap new connections to new ports."
	check "behind masquerade: [preserve port] and [no remap] on the probes" \
		mentions nmasq "[no remap]" "[preserve port]"
	check "behind masquerade: all self-tests [OK], Endian : Little" diag_ok nmasq
	check "behind masquerade: Looks compatible." mentions nmasq "Looks compatible."

	run_cd nsym "$NS_TGT" -n -y "$IP_RDV:5959"
	check "behind masquerade random: it reports remapping" mentions nsym "[remap]"
	check "behind masquerade random: the summary says the router remaps" \
		grep -q '^This router remaps' "$E2E_TMP/nsym.out"
	check "behind masquerade random: all self-tests [OK], Endian : Little" diag_ok nsym

	block_udp "$NS_NATI" "$IF_NAT_WAN"
	run_cd nblock "$NS_INI" -n -y "$IP_RDV:5959"
	check "UDP blocked: exits non-zero" test "$(cat "$E2E_TMP/nblock.rc")" != 0
	check "UDP blocked: says UDP is not working" mentions nblock "UDP is not working"
	check "UDP blocked: TCP to the server still works" \
		grep -q "^Checking TCP connectivity to $IP_RDV:5959 \[OK\]" "$E2E_TMP/nblock.out"
	check "UDP blocked: all self-tests [OK], Endian : Little" diag_ok nblock
	unblock_udp "$NS_NATI" "$IF_NAT_WAN"
}
scenario "connectd -n" net_diag

# With a sanitizer build (make check) or under valgrind, any report fails.
no_reports() {
	local hits
	hits=$(grep -rlE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|==[0-9]+== (Invalid|Conditional|Syscall param|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' \
		"$E2E_TMP" --include='*.log*' --include='*.err' --include='*.out' 2>/dev/null || true)
	if [[ -n $hits ]]; then
		diag "reports in: $hits"
		local f
		for f in $hits; do show "$f"; done
		return 1
	fi
}
check "no sanitizer or valgrind report in any connectd or rendezvousd output" no_reports
