#!/usr/bin/env bash
#
# tests/e2e/run.sh [NAME...]: run the end-to-end scenarios tests/e2e/t_*.sh
# (all of them in name order, or those named: "topology", "t_topology" or
# "tests/e2e/t_topology.sh"), each in its own bash process with its own run
# id and a time limit.  Prints the scenarios' "ok" / "not ok" / "skip" lines
# (tests/run-all.sh counts them) and exits 1 if any scenario failed.
#
# Environment: BUILD (build directory, default "build"), E2E_TIMEOUT (seconds
# per scenario, default 300), E2E_KILL_AFTER (seconds between TERM and KILL
# when the limit is hit, default 15), E2E_KEEP=1 (keep each scenario's logs).
#
# Whatever happens to a scenario, run.sh then removes every namespace whose
# name carries that scenario's run id, and reports it as a failure if the
# scenario left one behind.

set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
export BUILD=${BUILD:-build}
timeout_s=${E2E_TIMEOUT:-300}
kill_after=${E2E_KILL_AFTER:-15}
prefix="p2pR$$x$RANDOM"
failed=0
total=0
n=0
tpid=""
out=$(mktemp)
trap 'rm -f "$out"' EXIT

now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t / 1000))
}

# Namespaces of run id ID, and of the child runs it made (ID + letter + ...).
run_namespaces() {
	ip netns list 2>/dev/null | awk '{ print $1 }' |
		grep -E "^$1([a-z][A-Za-z0-9]*)?-" || true
}

# sweep ID: kill what runs in the leftover namespaces of ID, delete them,
# and print their names.
sweep() {
	local id=$1 left ns pids=() p i
	left=$(run_namespaces "$id")
	[[ -n $left ]] || return 0
	for ns in $left; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$p"); done
	done
	if ((${#pids[@]} > 0)); then
		kill -TERM "${pids[@]}" 2>/dev/null
		for ((i = 0; i < 40; i++)); do
			for p in "${!pids[@]}"; do
				kill -0 "${pids[p]}" 2>/dev/null || unset "pids[p]"
			done
			((${#pids[@]} > 0)) || break
			sleep 0.05
		done
		((${#pids[@]} > 0)) && kill -KILL "${pids[@]}" 2>/dev/null
	fi
	for ns in $left; do
		ip netns del "$ns" 2>/dev/null
	done
	echo "$left"
}

# Temporary directories lib.sh made for run id ID (and its child runs).
sweep_tmp() {
	local d
	for d in "${TMPDIR:-/tmp}/$1".?????? "${TMPDIR:-/tmp}/$1"[a-z]*.??????; do
		[[ -d $d && ${E2E_KEEP:-0} != 1 ]] && rm -rf -- "$d"
	done
	return 0
}

on_signal() {
	local i
	trap '' INT TERM HUP
	echo "# e2e: interrupted; stopping the scenario and removing the namespaces of this run"
	if [[ -n $tpid ]]; then
		kill -TERM "$tpid" 2>/dev/null
		wait "$tpid" 2>/dev/null
		cat "$out"
	fi
	echo "not ok - e2e: interrupted by a signal"
	sweep "${prefix}s[0-9]+" >/dev/null
	for ((i = 1; i <= n; i++)); do sweep_tmp "${prefix}s$i"; done
	exit 130
}
trap on_signal INT TERM HUP

# The scenarios to run.
scripts=()
if (($# == 0)); then
	while IFS= read -r f; do scripts+=("$f"); done < <(LC_ALL=C ls tests/e2e/t_*.sh 2>/dev/null)
else
	for a in "$@"; do
		a=${a##*/}
		a=${a%.sh}
		a=${a#t_}
		if [[ ! -f tests/e2e/t_$a.sh ]]; then
			echo "not ok - e2e: no scenario tests/e2e/t_$a.sh"
			failed=$((failed + 1))
			total=$((total + 1))
			continue
		fi
		scripts+=("tests/e2e/t_$a.sh")
	done
fi
if ((${#scripts[@]} == 0 && failed == 0)); then
	echo "skip - e2e (no scenario scripts tests/e2e/t_*.sh)"
	exit 0
fi

for t in "${scripts[@]}"; do
	n=$((n + 1))
	total=$((total + 1))
	name=${t##*/}
	id="${prefix}s$n"
	echo "# e2e: $name (run id $id)"
	t0=$(now_ms)
	# in the background, so that a signal to run.sh is handled at once
	E2E_RUNID=$id timeout --kill-after="$kill_after" "$timeout_s" \
		bash "$t" >"$out" 2>&1 </dev/null &
	tpid=$!
	wait "$tpid" 2>/dev/null
	rc=$?
	tpid=""
	cat "$out"
	nok=$(grep -c '^ok ' "$out")
	nfail=$(grep -c '^not ok ' "$out")
	nskip=$(grep -c '^skip ' "$out")
	bad=0
	if ((rc == 124 || rc == 137)); then
		echo "not ok - $name: timed out after $timeout_s s"
		bad=1
	elif ((rc != 0 && nfail == 0)); then
		echo "not ok - $name: exited with status $rc"
		bad=1
	elif ((rc == 0 && nok + nfail + nskip == 0)); then
		echo "not ok - $name: reported no result"
		bad=1
	elif ((nfail > 0)); then
		bad=1
	fi
	left=$(sweep "$id")
	sweep_tmp "$id"
	if [[ -n $left ]]; then
		echo "not ok - $name: left namespaces behind (now removed): ${left//$'\n'/ }"
		bad=1
	fi
	failed=$((failed + bad))
	echo "# e2e: $name finished in $((($(now_ms) - t0) / 1000)) s, exit status $rc"
done

left=$(sweep "${prefix}s[0-9]+")
if [[ -n $left ]]; then
	echo "not ok - e2e: namespaces left behind (now removed): ${left//$'\n'/ }"
	failed=$((failed + 1))
fi
echo "# e2e: $total scenario scripts, $failed failed"
((failed == 0))
