#!/usr/bin/env bash
#
# t_topology.sh: self-test of the end-to-end harness (lib.sh).  It proves
# that the topologies route, that the NAT helpers map and filter as they say,
# that loss and block_udp drop what they should, that the process helpers
# report what happened, and that cleanup leaves nothing behind, even when a
# scenario fails or is killed.  Needs root; runs in a few seconds.

. "$(dirname "$0")/lib.sh"
need_cmd curl sha256sum

# ---------------------------------------------------------------------------
# helpers

# probe_is NS SPORT DST DPORTS WANT: every answer to a probe from NS:SPORT
# says the sender was seen as WANT.
probe_is() {
	local out bad
	out=$(udp_tool "$1" probe "$2" "$3" "$4")
	echo "$out"
	bad=$(awk -v w="$5" '$2 != w' <<<"$out")
	[[ -n $out && -z $bad ]]
}

# The host namespace as far as the harness could change it: links, and any
# address or route inside the test ranges.
host_links() {
	ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
}

host_test_ranges() {
	{
		ip -4 addr show
		ip -4 route show table all
	} | grep -E '192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|198\.1[89]\.' || true
}

HOST_LINKS_BEFORE=$(host_links)
HOST_RANGES_BEFORE=$(host_test_ranges)

host_unchanged() {
	local now r
	now=$(host_links)
	r=$(host_test_ranges)
	if [[ $now != "$HOST_LINKS_BEFORE" ]]; then
		echo "host links changed:"
		diff <(echo "$HOST_LINKS_BEFORE") <(echo "$now") || true
		return 1
	fi
	if [[ $r != "$HOST_RANGES_BEFORE" ]]; then
		echo "host addresses or routes in the test ranges changed:"
		diff <(echo "$HOST_RANGES_BEFORE") <(echo "$r") || true
		return 1
	fi
}

names_have_runid() {
	local v n
	for v in NS_PUB NS_RDV NS_INI NS_TGT NS_NATI NS_NATT; do
		n=${!v}
		if [[ $n != "$RUNID"-* ]]; then
			echo "$v=$n does not start with $RUNID-"
			return 1
		fi
		ip netns list | awk '{ print $1 }' | grep -qxF -- "$n" || {
			echo "$v=$n is not in ip netns list"
			return 1
		}
	done
}

# filtering NS SPORT WANT: a host behind a NAT sends to rdv:3478; rdv answers
# first from 203.0.113.100:3479 ("stranger"), then from 203.0.113.1:3478
# ("known").  Over one path order is kept, so the first datagram to arrive
# shows whether the NAT let the stranger in.
filtering() {
	local out
	spawn "$NS_RDV" poke "${UDP_TOOL[@]}" poke "$IP_RDV" 3478 "$IP_RDV_ALT"
	wait_udp "$NS_RDV" "$IP_RDV" 3478 5 poke
	out=$(udp_tool "$1" first "$2" "$IP_RDV" 3478)
	echo "first datagram: $out"
	wait_exit poke 5
	[[ $out == "$3" ]]
}

tcp_fetch() { # tcp_fetch FROM_NS SEEN_AS: 1 MiB over HTTP from rdv, intact
	local dir=$E2E_TMP/www want got
	mkdir -p "$dir"
	head -c 1048576 /dev/urandom >"$dir/blob"
	spawn "$NS_RDV" http "$E2E_PYTHON" -u -m http.server --bind "$IP_RDV" \
		--directory "$dir" 8080
	wait_port "$NS_RDV" "$IP_RDV" 8080 10 http
	nsx "$1" curl --noproxy '*' -sS --max-time 20 -o "$E2E_TMP/got" \
		"http://$IP_RDV:8080/blob"
	want=$(sha256sum <"$dir/blob")
	got=$(sha256sum <"$E2E_TMP/got")
	echo "sha256 sent $want, received $got"
	[[ $want == "$got" ]]
	wait_log http "^$2 .*\"GET /blob HTTP/1\.1\" 200" 5
	stop_proc http
}

loss_share() { # 20 % loss on ini's link: 1000 datagrams one way, echoed back
	local out count count1 echoed srv_err cli_err
	spawn "$NS_RDV" sink "${UDP_TOOL[@]}" sink "$IP_RDV" 5001
	wait_udp "$NS_RDV" "$IP_RDV" 5001 5 sink
	loss "$NS_INI" eth0 20
	out=$(udp_tool "$NS_INI" blast 40001 "$IP_RDV" 5001 1000)
	loss "$NS_INI" eth0 0
	echo "$out"
	read -r _ _ _ echoed _ count _ srv_err _ cli_err <<<"$out"
	# One way 20 % are lost: 700..900 arrive.  Echoes cross twice: of those
	# that arrived 70..90 % come back.  Socket buffers must not drop any.
	((count >= 700 && count <= 900)) || {
		echo "count $count is not within 700..900"
		return 1
	}
	((echoed * 100 >= count * 70 && echoed * 100 <= count * 90)) || {
		echo "echoed $echoed is not within 70..90 % of $count"
		return 1
	}
	((srv_err == 0 && cli_err == 0)) || {
		echo "socket receive buffers dropped datagrams"
		return 1
	}
	# and with the rule gone nothing is lost (the sink counts on)
	count1=$count
	out=$(udp_tool "$NS_INI" blast 40001 "$IP_RDV" 5001 200)
	echo "$out"
	read -r _ _ _ echoed _ count _ <<<"$out"
	((count - count1 == 200 && echoed == 200))
}

udp_blocked() { # block_udp drops silently, TCP passes; unblock_udp restores
	local out
	spawn "$NS_RDV" recv "${UDP_TOOL[@]}" recv "$IP_RDV" 5002
	wait_udp "$NS_RDV" "$IP_RDV" 5002 5 recv
	block_udp "$NS_INI"
	udp_tool "$NS_INI" send 40002 "$IP_RDV" 5002 blocked
	spawn "$NS_RDV" http "$E2E_PYTHON" -u -m http.server --bind "$IP_RDV" \
		--directory "$LOGDIR" 8081
	wait_port "$NS_RDV" "$IP_RDV" 8081 10 http
	out=$(nsx "$NS_INI" curl --noproxy '*' -sS --max-time 10 -o /dev/null \
		-w '%{http_code}' "http://$IP_RDV:8081/")
	echo "HTTP status while UDP is blocked: $out"
	[[ $out == 200 ]]
	stop_proc http
	unblock_udp "$NS_INI"
	udp_tool "$NS_INI" send 40002 "$IP_RDV" 5002 passed
	wait_exit recv 5
	out=$(head -n 2 "$(log_of recv)" | tail -n 1)
	echo "recv got: $out"
	[[ $out == "passed from $IP_INI_PUB:40002" ]]
}

# ---------------------------------------------------------------------------
# topologies

two_masq() {
	topo_two_nats masq masq
	check "namespaces carry the run id" names_have_runid
	check "host namespace unchanged (no link, address or route)" host_unchanged
	spawn "$NS_RDV" echo "${UDP_TOOL[@]}" echo "$IP_RDV" 3478,3479 0
	wait_udp "$NS_RDV" "$IP_RDV" 3479 5 echo
	check "initiator 192.0.2.10:40000 seen as 203.0.113.2:40000 by two ports" \
		probe_is "$NS_INI" 40000 "$IP_RDV" 3478,3479 203.0.113.2:40000
	check "target 198.51.100.10:40000 seen as 203.0.113.3:40000 by two ports" \
		probe_is "$NS_TGT" 40000 "$IP_RDV" 3478,3479 203.0.113.3:40000
	stop_proc echo
	check "masquerade drops datagrams from a stranger" \
		filtering "$NS_INI" 40010 "known from $IP_RDV:3478"
	check "TCP through the NAT: curl fetches 1 MiB intact" tcp_fetch "$NS_INI" 203.0.113.2
	check "loss 20 % drops 10-30 % of 1000 datagrams each way" loss_share
	check "block_udp drops UDP silently, TCP passes, unblock_udp restores" udp_blocked
}

public_sym() {
	topo_two_nats none sym
	check "no NAT router for a public initiator" test -z "$NS_NATI"
	spawn "$NS_RDV" echo "${UDP_TOOL[@]}" echo "$IP_RDV" 3478,3479 0
	wait_udp "$NS_RDV" "$IP_RDV" 3479 5 echo
	check "public initiator seen as itself, 203.0.113.10:40000" \
		probe_is "$NS_INI" 40000 "$IP_RDV" 3478,3479 203.0.113.10:40000
	local out p1 p2
	out=$(udp_tool "$NS_TGT" probe 40000 "$IP_RDV" 3478,3479)
	diag "$out"
	p1=$(awk '$1 == 3478 { print $2 }' <<<"$out")
	p2=$(awk '$1 == 3479 { print $2 }' <<<"$out")
	check "symmetric NAT maps the two destinations to different ports" \
		test -n "$p1" -a -n "$p2" -a "$p1" != "$p2"
	check "symmetric NAT uses its WAN address" \
		test "${p1%:*} ${p2%:*}" = "203.0.113.3 203.0.113.3"
	if [[ $p1 == *:40000 || $p2 == *:40000 ]]; then
		diag "masquerade random kept source port 40000 for one destination"
	fi
}

full_cone() {
	topo_two_nats full masq
	spawn "$NS_RDV" echo "${UDP_TOOL[@]}" echo "$IP_RDV" 3478,3479 0
	wait_udp "$NS_RDV" "$IP_RDV" 3479 5 echo
	check "full cone keeps the port: 203.0.113.2:40000 for two ports" \
		probe_is "$NS_INI" 40000 "$IP_RDV" 3478,3479 203.0.113.2:40000
	stop_proc echo
	check "full cone lets a stranger in" \
		filtering "$NS_INI" 40020 "stranger from $IP_RDV_ALT:3479"
	check "masquerade next to it still drops the stranger" \
		filtering "$NS_TGT" 40020 "known from $IP_RDV:3478"
	check "TCP through the full-cone NAT" tcp_fetch "$NS_INI" 203.0.113.2
}

same_lan() {
	topo_same_lan masq
	check "one router for both peers" test "$NS_NATI" = "$NS_NATT"
	spawn "$NS_TGT" techo "${UDP_TOOL[@]}" echo "$IP_TGT" 5000 0
	spawn "$NS_RDV" echo "${UDP_TOOL[@]}" echo "$IP_RDV" 3478 0
	wait_udp "$NS_TGT" "$IP_TGT" 5000 5 techo
	wait_udp "$NS_RDV" "$IP_RDV" 3478 5 echo
	check "peers reach each other on the LAN without NAT" \
		probe_is "$NS_INI" 40000 "$IP_TGT" 5000 198.51.100.10:40000
	check "initiator seen as 203.0.113.2:40000 outside" \
		probe_is "$NS_INI" 40000 "$IP_RDV" 3478 203.0.113.2:40000
	check "target seen as 203.0.113.2:40001 outside" \
		probe_is "$NS_TGT" 40001 "$IP_RDV" 3478 203.0.113.2:40001
}

# ---------------------------------------------------------------------------
# process helpers

elapsed_below() { # elapsed_below MS CMD...: CMD fails, within MS ms
	local t0 t1
	t0=$(_e2e_now_ms)
	if "${@:2}"; then
		echo "succeeded, want failure"
		return 1
	fi
	t1=$(_e2e_now_ms)
	echo "took $((t1 - t0)) ms"
	((t1 - t0 < $1))
}

wait_exit_is() { # wait_exit_is RC NAME TIMEOUT
	local rc=0
	wait_exit "$2" "$3" || rc=$?
	echo "wait_exit returned $rc"
	[[ $rc == "$1" ]]
}

wait_log_times_out() {
	local out
	if out=$(wait_log pause 'never printed' 0.3); then
		return 1
	fi
	echo "$out"
	grep -q 'did not match' <<<"$out" && grep -q 'paused' <<<"$out"
}

helpers() {
	ns_new h
	spawn h seven sh -c 'echo hello; exit 7'
	check "wait_log sees a line" wait_log seven '^hello$' 5
	check "wait_exit returns the exit status" expect_exit seven 7 5
	spawn h pause "$E2E_PYTHON" -u -c 'import signal; print("paused"); signal.pause()'
	wait_log pause paused 5
	check "wait_log fails on timeout and shows the log's tail" wait_log_times_out
	check "wait_exit returns 124 while the process runs" wait_exit_is 124 pause 0.1
	kill_proc pause TERM
	check "a process killed by TERM exits 143" expect_exit pause 143 5
	check "kill_proc fails for a process that exited" ! kill_proc pause
	spawn h bye sh -c 'echo bye; exit 3'
	check "wait_log fails at once when the process exited" \
		elapsed_below 5000 wait_log bye 'never printed' 30
	check "wait_port fails at once when the process exited" \
		elapsed_below 5000 wait_port h 127.0.0.1 9 30 bye
	spawn h intr "$E2E_PYTHON" -u -c 'import signal; print("ready"); signal.pause()'
	wait_log intr ready 5
	kill_proc intr INT
	check "SIGINT is not ignored in spawned processes (exit 130)" expect_exit intr 130 5
	spawn h stubborn "$E2E_PYTHON" -u -c \
		'import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("ready"); signal.pause()'
	wait_log stubborn ready 5
	stop_proc stubborn 0.2
	check "stop_proc KILLs a process that ignores TERM" expect_exit stubborn 137 1
	spawn h again sh -c 'echo first run'
	wait_exit again 5 || true
	spawn h again sh -c 'echo second run'
	wait_exit again 5 || true
	check "a restarted process gets a new log, the old one is kept" \
		grep -qx 'first run' "$(log_of again).1"
	check "the new log holds the new run" grep -qx 'second run' "$(log_of again)"
	check "addresses outside the test ranges are refused" ! addr_add h lo 10.0.0.1/8
	check "namespaces this run did not make are refused" ! nsx nothere true
}

# ---------------------------------------------------------------------------
# cleanup, checked on a child run: normal exit, failure, and SIGTERM

child_script() {
	cat >"$E2E_TMP/child.sh" <<EOF
. "$E2E_DIR/lib.sh"
ns_new a
ns_new b
veth a eth0 198.18.0.1/24 b eth0 198.18.0.2/24
spawn a sleeper sleep 600
nsx b sh -c 'sleep 600 >/dev/null 2>&1 </dev/null &'
echo "# child ready \$E2E_TMP \$(pid_of sleeper) \$(ip netns pids "\$(ns b)")"
case \$1 in
ok) check "child check" true ;;
fail) false ;;
term) wait_log sleeper 'never printed' 60 ;;
esac
EOF
}

# child_cleanup MODE WANT_RC WANT_OUTPUT: run the child, then prove that it
# removed its namespaces, processes and files and left the decoy alone.
child_cleanup() {
	local mode=$1 want_rc=$2 want=$3 cid=${RUNID}c$1 rc=0 out tmp p
	local -a pids
	_e2e_track_ns "$cid-decoy"
	ip netns add "$cid-decoy"
	if [[ $mode == term ]]; then
		spawn - child env E2E_RUNID="$cid" bash "$E2E_TMP/child.sh" term
		wait_log child '^# child ready' 20
		kill_proc child TERM
		wait_exit child 20 || rc=$?
		out=$(cat "$(log_of child)")
	else
		out=$(E2E_RUNID=$cid bash "$E2E_TMP/child.sh" "$mode" 2>&1) || rc=$?
	fi
	echo "$out"
	[[ $rc == "$want_rc" ]] || {
		echo "child exited $rc, want $want_rc"
		return 1
	}
	grep -qF -- "$want" <<<"$out" || {
		echo "child output lacks: $want"
		return 1
	}
	read -r _ _ _ tmp pids <<<"$(grep '^# child ready' <<<"$out")"
	read -r -a pids <<<"$pids"
	((${#pids[@]} >= 2)) || {
		echo "child did not report its processes"
		return 1
	}
	for p in "${pids[@]}"; do
		if _e2e_alive "$p"; then
			echo "child process $p still runs"
			return 1
		fi
	done
	if ip netns list | awk '{ print $1 }' | grep -E "^$cid-" | grep -vx "$cid-decoy"; then
		echo "child namespaces left behind"
		return 1
	fi
	ip netns list | awk '{ print $1 }' | grep -qx "$cid-decoy" || {
		echo "the decoy namespace $cid-decoy was removed, but the child did not make it"
		return 1
	}
	[[ -n $tmp && ! -e $tmp ]] || {
		echo "child temporary directory '$tmp' left behind"
		return 1
	}
}

cleanup_runs() {
	child_script
	check "cleanup after a normal exit" child_cleanup ok 0 "ok - child check"
	check "cleanup after a failure" child_cleanup fail 1 "not ok - child.sh: stopped with exit status 1"
	check "cleanup after SIGTERM" child_cleanup term 143 "interrupted by SIGTERM"
}

no_namespace_left() {
	if ip netns list | awk '{ print $1 }' | grep -E "^$RUNID-"; then
		echo "namespaces of this run are left"
		return 1
	fi
}

scenario "two masquerade NATs" two_masq
scenario "public initiator, symmetric NAT target" public_sym
scenario "full-cone NAT" full_cone
scenario "both peers on one LAN" same_lan
scenario "process helpers" helpers
scenario "cleanup" cleanup_runs
check "every namespace of the finished scenarios is gone" no_namespace_left
check "host namespace unchanged at the end" host_unchanged
