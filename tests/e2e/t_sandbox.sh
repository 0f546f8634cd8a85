#!/usr/bin/env bash
# t_sandbox.sh: the worker sandbox (docs/sandbox.md) seen from outside.
#
#  1. connectd --sandbox-test, as root: it drops to the worker user, tries
#     what the sandbox forbids and what it allows, and exits 0 only if every
#     forbidden operation was blocked; a missing or uid-0 worker user is an
#     error; no empty root directory is left behind in /tmp.
#  2. A target and an initiator carrying a tunnel: /proc/PID/status of both
#     says NoNewPrivs 1, Seccomp 2 (filter), the worker user's uid and no
#     capabilities; their root is an unlinked empty directory; a file crosses
#     the tunnel intact; both end on SIGTERM with exit 3 (not SIGSYS).
#  3. A worker whose worker user does not exist refuses to run; --no-sandbox
#     runs unconfined and says so.
# Needs root (lib.sh skips otherwise) and the account "nobody".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p2plib.sh"
need_bin rendezvousd connectd
need_cmd curl sha256sum readlink id
id -u nobody >/dev/null 2>&1 || skip_all "needs the account nobody"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

# connectd without --sandbox-test (not wired into worker/cli.c yet) says so
# with a usage error; then there is nothing to test.
ns_new sbx
rc=0
nsx sbx env -u P2PD_WORKER_USER "$CONNECTD" --sandbox-test >"$E2E_TMP/selftest.out" 2>&1 || rc=$?
if ((rc == 64)); then
	diag "$(cat "$E2E_TMP/selftest.out")"
	skip_all "connectd has no --sandbox-test (wire worker/sandbox.h into worker/cli.c)"
fi

# ---------------------------------------------------------------------------
# 1. connectd --sandbox-test

selftest_rc() { # selftest_rc WANT [ENV...]: run the self-test, want exit WANT
	local want=$1 rc=0
	shift
	nsx sbx env -u P2PD_WORKER_USER "$@" "$CONNECTD" --sandbox-test >"$E2E_TMP/st.out" 2>&1 || rc=$?
	cat "$E2E_TMP/st.out"
	((rc == want)) || {
		echo "exit status $rc, want $want"
		return 1
	}
}

has() { # has FILE REGEX: FILE has a line matching the extended REGEX
	grep -Eq -- "$2" "$1" || {
		echo "no line matches /$2/ in $1:"
		cat "$1"
		return 1
	}
}

all_blocked() {
	local f=$E2E_TMP/selftest.out n m
	has "$f" '^sandbox: [0-9]+ of [0-9]+ forbidden operations blocked$'
	read -r n m < <(sed -n 's/^sandbox: \([0-9]*\) of \([0-9]*\) forbidden.*/\1 \2/p' "$f")
	((n == m && n >= 10)) || {
		echo "blocked $n of $m"
		return 1
	}
	! grep -E 'NOT BLOCKED|FAILED' "$f"
}

selftest_checks() {
	local f=$E2E_TMP/selftest.out
	check "--sandbox-test exits 0" test "$rc" -eq 0
	check "every forbidden operation is blocked" all_blocked
	check "it ran as the worker user nobody" has "$f" "^status Uid:\s+$NOBODY_UID\s+$NOBODY_UID\s+$NOBODY_UID\s+$NOBODY_UID$"
	check "with nobody's group" has "$f" "^status Gid:\s+$NOBODY_GID\s+$NOBODY_GID\s+$NOBODY_GID\s+$NOBODY_GID$"
	check "with no_new_privs" has "$f" '^status NoNewPrivs:\s+1$'
	check "in seccomp filter mode" has "$f" '^status Seccomp:\s+2$'
	check "open /etc/passwd is blocked" has "$f" '^open /etc/passwd: blocked \(EACCES\)$'
	check "writing a file is blocked" has "$f" '^create .*: blocked \((EACCES|EPERM)\)$'
	check "execve is blocked" has "$f" '^execve .*: blocked \(EACCES\)$'
	check "fork is blocked" has "$f" '^fork: blocked \(EACCES\)$'
	check "a raw socket is blocked" has "$f" '^socket AF_INET SOCK_RAW: blocked \(EACCES\)$'
	check "an AF_PACKET socket is blocked" has "$f" '^socket AF_PACKET: blocked \(EACCES\)$'
	check "a UDP socket still works" has "$f" '^UDP socket, send and receive: works$'
	check "random numbers still work" has "$f" '^getentropy .*: works$'
}

empty_dirs() {
	find "${TMPDIR:-/tmp}" /tmp -maxdepth 1 -name 'p2pd-empty.*' 2>/dev/null | sort -u | wc -l
}

no_new_empty_dirs() {
	local now
	now=$(empty_dirs)
	((now == EMPTY_BEFORE)) || {
		echo "p2pd-empty.* directories: $EMPTY_BEFORE before, $now after"
		return 1
	}
}

EMPTY_BEFORE=$(empty_dirs)
selftest_checks
check "P2PD_WORKER_USER=p2pd-no-such-user: exits 1" \
	selftest_rc 1 P2PD_WORKER_USER=p2pd-no-such-user
check "and says the user does not exist" has "$E2E_TMP/st.out" "worker user 'p2pd-no-such-user' does not exist"
check "P2PD_WORKER_USER=root: exits 1" selftest_rc 1 P2PD_WORKER_USER=root
check "and says a worker must not run as uid 0" has "$E2E_TMP/st.out" "worker user 'root' has uid 0"
check "no empty root directory is left in /tmp" no_new_empty_dirs

# ---------------------------------------------------------------------------
# 2. sandboxed workers carrying a tunnel

status_of() { # status_of NAME FIELD: a field of /proc/PID/status of NAME
	local pid
	pid=$(pid_of "$1")
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$pid/status"
}

four_times() { # four_times "A B C D" N: all four are N
	local a b c d
	read -r a b c d <<<"$1"
	[[ $a == "$2" && $b == "$2" && $c == "$2" && $d == "$2" ]]
}

confined() { # confined NAME: NAME runs as nobody, no_new_privs, seccomp, no caps
	local name=$1 v
	running "$name" || {
		echo "$name is not running"
		return 1
	}
	v=$(status_of "$name" NoNewPrivs)
	[[ $v == 1 ]] || {
		echo "NoNewPrivs: $v, want 1"
		return 1
	}
	v=$(status_of "$name" Seccomp)
	[[ $v == 2 ]] || {
		echo "Seccomp: $v, want 2"
		return 1
	}
	v=$(status_of "$name" Uid)
	four_times "$v" "$NOBODY_UID" || {
		echo "Uid: $v, want $NOBODY_UID (nobody) as real, effective, saved and fs uid"
		return 1
	}
	v=$(status_of "$name" Gid)
	four_times "$v" "$NOBODY_GID" || {
		echo "Gid: $v, want $NOBODY_GID four times"
		return 1
	}
	v=$(status_of "$name" CapEff)
	[[ $v =~ ^0+$ ]] || {
		echo "CapEff: $v, want none"
		return 1
	}
}

empty_root() { # empty_root NAME: NAME's root is an unlinked p2pd-empty directory
	local r
	r=$(readlink "/proc/$(pid_of "$1")/root")
	echo "root of $1: $r"
	[[ $r =~ /p2pd-empty\.[A-Za-z0-9]{6}\ \(deleted\)$ ]]
}

tunnel_scenario() {
	topo_two_nats masq masq
	p2p_accounts
	p2p_rdv_conf
	p2p_start_rdv
	mkdir -p "$E2E_TMP/www"
	p2p_blob "$E2E_TMP/www/blob.bin" 2000000
	p2p_web "$NS_TGT" web 127.0.0.1 8080 "$E2E_TMP/www"
	p2p_pair 1 s 8080 33000 3
	check "the target is confined (nobody, no_new_privs, seccomp, no capabilities)" confined ts
	check "the initiator is confined the same way" confined is
	check "the target's root is an unlinked empty directory" empty_root ts
	check "the initiator's root is an unlinked empty directory" empty_root is
	check "a file crosses the tunnel between sandboxed workers intact" p2p_fetch_sha 33000 "$E2E_TMP/www/blob.bin"
	check "three more fetches, in parallel" fetch_parallel
	check "the target survived the traffic (no SIGSYS)" confined ts
	check "the initiator survived the traffic" confined is
	kill_proc is TERM
	check "the initiator ends on SIGTERM with exit 3" expect_exit is 3 10
	kill_proc ts TERM
	check "the target ends on SIGTERM with exit 3" expect_exit ts 3 10
}

fetch_parallel() {
	local pids=() p rc=0
	for p in 1 2 3; do
		nsx "$NS_INI" curl --noproxy '*' -sS --max-time 60 -o "$E2E_TMP/par$p.bin" \
			"http://127.0.0.1:33000/blob.bin" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	((rc == 0)) || return 1
	for p in 1 2 3; do cmp "$E2E_TMP/www/blob.bin" "$E2E_TMP/par$p.bin"; done
}

# ---------------------------------------------------------------------------
# 3. a worker user that does not exist; --no-sandbox

refusal_scenario() {
	topo_two_nats none none
	p2p_accounts
	p2p_rdv_conf
	p2p_start_rdv
	p2p_target_conf "$E2E_TMP/t2.conf"
	spawn "$NS_TGT" badu env P2PD_WORKER_USER=p2pd-no-such-user "$CONNECTD" -f "$E2E_TMP/t2.conf"
	check "a worker whose worker user does not exist exits" wait_exit_nonzero badu
	check "and says the user does not exist" has "$(log_of badu)" "worker user 'p2pd-no-such-user' does not exist"
	spawn "$NS_TGT" nosb "$CONNECTD" --no-sandbox -s -f "$E2E_TMP/t2.conf"
	wait_log nosb '^!!status registered' 10
	check "--no-sandbox: no seccomp filter" test "$(status_of nosb Seccomp)" = 0
	check "--no-sandbox: still root" test "$(status_of nosb Uid | awk '{print $2}')" = 0
	check "--no-sandbox: says so in its log" has "$(log_of nosb)" '[Ss]andbox'
	stop_proc nosb
}

wait_exit_nonzero() {
	local rc=0
	wait_exit "$1" 10 || rc=$?
	((rc != 0 && rc != 124)) || {
		echo "exit status $rc, want a failure"
		return 1
	}
	echo "exit status $rc"
}

scenario "sandboxed target and initiator carry a tunnel" tunnel_scenario
scenario "the worker refuses a missing worker user; --no-sandbox is unconfined" refusal_scenario
check "no empty root directory is left in /tmp after the workers" no_new_empty_dirs
