#!/usr/bin/env bash
# The encrypted tunnel end to end: real clients (curl, ssh, scp, many TCP
# connections at once) through initiator and target behind two NATs, in every
# encryption mode; half-close; a service that is down; a target that dies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p2plib.sh"
need_bin rendezvousd connectd
need_cmd curl ssh scp ssh-keygen sha256sum
SSHD=/usr/sbin/sshd
TCPTOOL=$E2E_DIR/tcptool.py
p2p_accounts

sshd_start() { # sshd on 127.0.0.1:2222 in the target's namespace, root by key
	local d=$E2E_TMP/ssh
	rm -rf "$d"
	mkdir -p "$d" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$d/user_key"
	cp "$d/user_key.pub" "$d/authorized_keys"
	cat >"$d/sshd_config" <<CONF
Port 2222
ListenAddress 127.0.0.1
HostKey $d/host_key
PidFile none
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CONF
	spawn "$NS_TGT" sshd "$SSHD" -D -e -f "$d/sshd_config"
	wait_port "$NS_TGT" 127.0.0.1 2222 10
}

ssh_opts() {
	echo "-i $E2E_TMP/ssh/user_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
}

fetch_sha() { # fetch_sha PORT FILE: curl through the tunnel, compare sha256
	local port=$1 file=$2 got want
	nsx "$NS_INI" curl --noproxy '*' -sS --max-time 120 -o "$E2E_TMP/got.bin" \
		"http://127.0.0.1:$port/$(basename "$file")"
	want=$(sha256sum <"$file")
	got=$(sha256sum <"$E2E_TMP/got.bin")
	rm -f "$E2E_TMP/got.bin"
	[[ $got == "$want" ]] || {
		diag "sha256 differs: want $want got $got"
		return 1
	}
}

ssh_run() {
	local out
	# shellcheck disable=SC2046
	out=$(nsx "$NS_INI" ssh $(ssh_opts) -p 33002 root@127.0.0.1 'echo tunnel-ok; uname -s')
	grep -q '^tunnel-ok$' <<<"$out"
}

scp_copy() {
	local want got
	p2p_blob "$E2E_TMP/scp.src" 2000000
	# shellcheck disable=SC2046
	nsx "$NS_INI" scp -q $(ssh_opts) -P 33002 "$E2E_TMP/scp.src" root@127.0.0.1:"$E2E_TMP/scp.dst"
	want=$(sha256sum <"$E2E_TMP/scp.src")
	got=$(sha256sum <"$E2E_TMP/scp.dst")
	[[ $got == "$want" ]]
}

in_mode() {
	local mode=$1
	topo_two_nats masq masq
	p2p_rdv_conf
	p2p_start_rdv
	mkdir -p "$E2E_TMP/www"
	p2p_blob "$E2E_TMP/www/blob50" 50000000
	p2p_web "$NS_TGT" web 127.0.0.1 8080 "$E2E_TMP/www"
	spawn "$NS_TGT" echo "$E2E_PYTHON" "$TCPTOOL" echo 7000
	wait_port "$NS_TGT" 127.0.0.1 7000 10
	sshd_start
	p2p_pair 1 web 8080 33000 "$mode"
	p2p_pair 2 echo 7000 33001 "$mode"
	p2p_pair 3 ssh 2222 33002 "$mode"
	check "a 50 MB file fetched with curl arrives intact (sha256)" fetch_sha 33000 "$E2E_TMP/www/blob50"
	check "100 concurrent connections, each with its own data, all intact" \
		nsx "$NS_INI" "$E2E_PYTHON" "$TCPTOOL" concurrent 33001 100 65536
	check "an ssh session through the tunnel runs a command" ssh_run
	check "scp copies a file through the tunnel intact" scp_copy
	if ((mode <= 1)); then
		check "the initiator warns that mode $mode is weak" grep -q "encryption mode $mode is weak" "$(log_of iweb)"
		check "the target warns that mode $mode is weak" grep -q "encryption mode $mode is weak" "$(log_of tweb)"
	fi
	check "each tunnel stayed up (one 'tunnel up' per initiator)" \
		test "$(grep -c 'tunnel up' "$(log_of iweb)")" = 1
}
for m in 0 1 2 3; do
	scenario "mode $m" in_mode "$m"
done

behaviour() {
	topo_two_nats masq masq
	p2p_rdv_conf
	p2p_start_rdv
	spawn "$NS_TGT" answer "$E2E_PYTHON" "$TCPTOOL" answer 7001 3000000
	wait_port "$NS_TGT" 127.0.0.1 7001 10
	p2p_pair 1 half 7001 33000 2
	check "half-close: the client shuts its write side, the server still answers in full" \
		nsx "$NS_INI" "$E2E_PYTHON" "$TCPTOOL" halfclose 33000 1000000 3000000

	# Nothing listens on 7002 behind this target.
	p2p_pair 2 down 7002 33001 2 "keepalive 1" "dead_interval 4"
	check "the service is down: the client's connection is closed within 2 s" \
		nsx "$NS_INI" "$E2E_PYTHON" "$TCPTOOL" closed 33001 2
	check "the target logged the refused connection" grep -q 'connect to 127.0.0.1:7002 failed' "$(log_of tdown)"
	spawn "$NS_TGT" late "$E2E_PYTHON" "$TCPTOOL" echo 7002
	wait_port "$NS_TGT" 127.0.0.1 7002 10
	check "the tunnel stayed up: once the service runs, the same initiator reaches it" \
		nsx "$NS_INI" "$E2E_PYTHON" "$TCPTOOL" concurrent 33001 3 10000
	check "the initiator still runs" running idown

	kill_proc tdown KILL
	check "kill -9 of the target: the initiator exits 20 within the dead interval" expect_exit idown 20 6
	check "and says why" grep -q '^!!exit 20 : peer .* silent for 4 s' "$(log_of idown)"
	kill_proc ihalf INT
	check "CTRL-C ends the initiator with exit 3" expect_exit ihalf 3 5
	check "the target sees the initiator close" wait_log thalf 'session with .* ended: shutdown by peer' 5
}
scenario "half-close, service down, dead peer, CTRL-C" behaviour

lossy() {
	topo_two_nats masq masq
	p2p_rdv_conf
	p2p_start_rdv
	mkdir -p "$E2E_TMP/www"
	p2p_blob "$E2E_TMP/www/blob10" 10000000
	p2p_web "$NS_TGT" web 127.0.0.1 8080 "$E2E_TMP/www"
	p2p_pair 1 web 8080 33000 2
	loss "$NS_NATI" "$IF_NAT_WAN" 5
	check "5% loss both ways: a 10 MB transfer arrives intact" fetch_sha 33000 "$E2E_TMP/www/blob10"
	loss "$NS_NATI" "$IF_NAT_WAN" 20
	check "20% loss both ways: a 10 MB transfer arrives intact" fetch_sha 33000 "$E2E_TMP/www/blob10"
	loss "$NS_NATI" "$IF_NAT_WAN" 0
}
scenario "packet loss" lossy
