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
	check "a 50 MB file fetched with curl arrives intact (sha256)" p2p_fetch_sha 33000 "$E2E_TMP/www/blob50" 120
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

sessions() {
	topo_two_nats masq masq
	p2p_rdv_conf
	p2p_start_rdv
	spawn "$NS_TGT" echo "$E2E_PYTHON" "$TCPTOOL" echo 7000
	wait_port "$NS_TGT" 127.0.0.1 7000 10
	p2p_target_conf "$E2E_TMP/tgt.conf" "proxy_dest_port 7000" "allow_encryption 2,3"
	spawn "$NS_TGT" tgt "$CONNECTD" -s -f "$E2E_TMP/tgt.conf"
	wait_log tgt '^!!status registered' 10

	p2p_initiator_conf "$E2E_TMP/weak.conf" "encryption 1"
	spawn "$NS_INI" weak "$CONNECTD" -s -f "$E2E_TMP/weak.conf"
	check "a mode outside the target's allow_encryption: the initiator exits 13" expect_exit weak 13 15
	check "saying which mode was refused" grep -q '^!!exit 13 : target .* refused encryption mode 1' "$(log_of weak)"
	check "the target logs the refusal" grep -q 'encryption mode 1 is not in allow_encryption 2,3' "$(log_of tgt)"

	p2p_initiator_conf "$E2E_TMP/a.conf" "proxy_local_port 33001" "encryption 2"
	p2p_initiator_conf "$E2E_TMP/b.conf" "proxy_local_port 33002" "encryption 3" "idle_limit 3"
	spawn "$NS_INI" a "$CONNECTD" -s -f "$E2E_TMP/a.conf"
	spawn "$NS_INI" b "$CONNECTD" -s -f "$E2E_TMP/b.conf"
	wait_log a '^Proxy started\.' 15
	wait_log b '^Proxy started\.' 15
	both() {
		nsx "$NS_INI" "$E2E_PYTHON" "$TCPTOOL" concurrent 33001 20 200000 &
		local p1=$!
		nsx "$NS_INI" "$E2E_PYTHON" "$TCPTOOL" concurrent 33002 20 200000
		wait "$p1"
	}
	check "one target serves two initiators at once, each transfer intact" both
	check "the target holds two sessions with their own keys and modes" \
		test "$(grep -c 'tunnel up with .* mode [23],' "$(log_of tgt)")" = 2
	check "idle_limit 3: the idle initiator exits 1" expect_exit b 1 10
	check "with a clear message" grep -q '^!!exit 1 : idle limit of 3 s reached' "$(log_of b)"

	# restrict_ip: the proxy listens on every address but accepts only the host's LAN address.
	p2p_initiator_conf "$E2E_TMP/r.conf" "proxy_local_port 33003" "proxy_bind_address 0.0.0.0" \
		"restrict_ip $IP_INI"
	spawn "$NS_INI" r "$CONNECTD" -s -f "$E2E_TMP/r.conf"
	wait_log r '^Proxy started\.' 15
	via_lan() {
		nsx "$NS_INI" "$E2E_PYTHON" - "$IP_INI" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 33003), timeout=10)
s.sendall(b"x" * 1000)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    got += d
sys.exit(0 if got == b"x" * 1000 else 1)
PY
	}
	check "restrict_ip: a client from the allowed address gets through" via_lan
	check "restrict_ip: a client from another address (127.0.0.1) is closed at once" \
		nsx "$NS_INI" "$E2E_PYTHON" "$TCPTOOL" closed 33003 2
	check "and the refusal is logged" grep -q "refused local client 127.0.0.1:[0-9]*: restrict_ip allows only $IP_INI" "$(log_of r)"

	# Garbage at the target's UDP port, from its own host: dropped and counted.
	local port
	port=$(sed -n 's/.*UDP port \([0-9]*\).*/\1/p' "$(log_of tgt)" | head -n 1)
	garbage() {
		nsx "$NS_TGT" "$E2E_PYTHON" - "$port" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
port = int(sys.argv[1])
for i in range(300):
    first = bytes([(0xa0, 0x91, 0x92, 0x93, 0x81, 0x00, 0xff)[i % 7]])
    s.sendto(first + b"\x01" + os.urandom(i % 200), ("127.0.0.1", port))
PY
	}
	check "300 forged and malformed datagrams sent to the target" garbage
	check "the tunnel still carries data afterwards" \
		nsx "$NS_INI" "$E2E_PYTHON" "$TCPTOOL" concurrent 33001 5 100000
	kill_proc tgt TERM
	wait_exit tgt 5 || true
	check "the target counted the dropped datagrams" \
		grep -Eq 'datagrams dropped: [1-9][0-9]* for no session' "$(log_of tgt)"
}
scenario "allow_encryption, two initiators on one target, idle limit, garbage" sessions

lossy() {
	topo_two_nats masq masq
	p2p_rdv_conf
	p2p_start_rdv
	mkdir -p "$E2E_TMP/www"
	p2p_blob "$E2E_TMP/www/blob10" 10000000
	p2p_web "$NS_TGT" web 127.0.0.1 8080 "$E2E_TMP/www"
	p2p_pair 1 web 8080 33000 2
	# A second initiator with a lifetime of one minute runs alongside.
	p2p_initiator_conf "$E2E_TMP/life.conf" "proxy_local_port 33009" "lifetime 1"
	spawn "$NS_INI" life "$CONNECTD" -s -f "$E2E_TMP/life.conf"
	wait_log life '^Proxy started\.' 15
	loss "$NS_NATI" "$IF_NAT_WAN" 5
	check "5% loss both ways: a 10 MB transfer arrives intact" p2p_fetch_sha 33000 "$E2E_TMP/www/blob10" 120
	loss "$NS_NATI" "$IF_NAT_WAN" 20
	check "20% loss both ways: a 10 MB transfer arrives intact" p2p_fetch_sha 33000 "$E2E_TMP/www/blob10" 120
	loss "$NS_NATI" "$IF_NAT_WAN" 0
	check "lifetime 1: the initiator exits 1 after one minute" expect_exit life 1 70
	check "with a clear message" grep -q '^!!exit 1 : lifetime of 1 minute expired' "$(log_of life)"
}
scenario "packet loss" lossy
