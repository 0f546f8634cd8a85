#!/usr/bin/env bash
# t_nat_matrix.sh: the NAT matrix. For every pair of NAT kinds on the
# initiator's and the target's side (none, masq = endpoint-independent
# port-preserving mapping, sym = symmetric "masquerade random"), plus a full
# cone (endpoint-independent filtering) against a symmetric NAT both ways,
# one cell: connect, fetch a file through the tunnel with curl and compare
# its sha256, and check the path each peer reports.
#
# Expected: direct wherever punching works without port prediction (no NAT
# on a side; endpoint-independent mapping on both sides; full cone against
# symmetric); relay through rendezvousd otherwise (masq against sym, sym
# against sym). Every cell connects.
#
# Start orders: every cell with the target first (standalone connectd -s);
# every cell again with the initiator first, under p2pd with
# autoconnect 2 (the first worker finds no target and exits 14, a later one
# connects); there the path is read from p2pctl status --json.
# Also: relay = no on the server makes a sym/sym cell exit 21; a peer-
# reflexive address is adopted (log line); conntrack flushed on a NAT in the
# middle of a transfer does not break it; a relayed tunnel moves to a direct
# path that appears in the middle of a transfer without breaking it; a
# relayed tunnel survives a restart of rendezvousd (both peers log in again).
# NAT_MATRIX_ONLY=REGEX runs only the scenarios whose names match.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p2plib.sh"
need_bin rendezvousd connectd p2pd p2pctl
need_cmd curl sha256sum conntrack
p2p_accounts
if ! id -u nobody >/dev/null 2>&1; then
	skip_all "needs a user nobody for the workers p2pd runs"
fi

BLOB=3000000

PUNCH=3 # punch_timeout in the cells (seconds before the relay fallback)

# NAT_MATRIX_ONLY=REGEX runs only the scenarios whose names match (by hand).
cell() {
	if [[ -z ${NAT_MATRIX_ONLY:-} || $1 =~ $NAT_MATRIX_ONLY ]]; then
		scenario "$@"
	fi
}

# want_path I_KIND T_KIND: the path the issue expects.
want_path() {
	case "$1/$2" in
	none/* | */none | masq/masq | full/sym | sym/full) echo direct ;;
	*) echo relay ;;
	esac
}

# setup I_KIND T_KIND [SERVER LINES...]: topology, rendezvousd, a web server
# in the target's namespace with a random file.
setup() {
	local ik=$1 tk=$2
	shift 2
	topo_two_nats "$ik" "$tk"
	p2p_rdv_conf "$@"
	p2p_start_rdv
	mkdir -p "$E2E_TMP/www"
	p2p_blob "$E2E_TMP/www/blob" "$BLOB"
	p2p_web "$NS_TGT" web 127.0.0.1 8080 "$E2E_TMP/www"
}

start_target() {
	p2p_target_conf "$E2E_TMP/tgt.conf" "punch_timeout $PUNCH"
	spawn "$NS_TGT" tgt "$CONNECTD" -s -f "$E2E_TMP/tgt.conf"
	wait_log tgt '^!!status registered' 10
}

# Target first: both standalone with status lines.
cell_target_first() {
	local ik=$1 tk=$2 want
	want=$(want_path "$ik" "$tk")
	setup "$ik" "$tk"
	start_target
	p2p_initiator_conf "$E2E_TMP/ini.conf" "punch_timeout $PUNCH"
	spawn "$NS_INI" ini "$CONNECTD" -s -f "$E2E_TMP/ini.conf"
	check "connects" wait_log ini '^Proxy started\.' $((PUNCH + 10))
	check "a $((BLOB / 1000000)) MB transfer arrives intact (sha256)" p2p_fetch_sha 33000 "$E2E_TMP/www/blob"
	check "the initiator's path is $want" grep -q "^!!path $want peer=" "$(log_of ini)"
	check "the target's path is $want" grep -q "tunnel up with $P2P_USER: path $want" "$(log_of tgt)"
	if [[ $want == relay ]]; then
		check "the server relayed the session" grep -q "relaying session [0-9a-f]* $P2P_USER <-> $P2P_UID" "$(log_of rdv)"
	else
		check "the server relayed nothing" ! grep -q "relaying session" "$(log_of rdv)"
	fi
}

# sup_initiator: p2pd in the initiator's namespace with one autoconnect 2
# initiator (restart_min 1 s).
sup_initiator() {
	local d=$E2E_TMP/sup
	mkdir -p "$d/conf.d"
	cat >"$d/p2pd.conf" <<EOF
[supervisor]
conf_dir = $d/conf.d
control_socket = $d/ctl.sock
control_group = root
worker_user = nobody
worker_binary = $CONNECTD
server = $IP_RDV:5959
restart_min = 1
restart_max = 2
EOF
	p2p_initiator_conf "$d/conf.d/web.conf" "autoconnect 2" "punch_timeout $PUNCH"
	spawn "$NS_INI" p2pd "$P2PD" -c "$d/p2pd.conf"
	wait_for 10 test -S "$d/ctl.sock"
}

status_json() { nsx "$NS_INI" "$P2PCTL" -s "$E2E_TMP/sup/ctl.sock" status --json 2>/dev/null || true; }

# path_is WANT: p2pctl status --json says the worker is connected over WANT.
path_is() {
	local js
	js=$(status_json)
	"$E2E_PYTHON" - "$1" "$js" <<'PY'
import json, sys
want, js = sys.argv[1], sys.argv[2]
w = json.loads(js)["workers"][0]
sys.exit(0 if w.get("detail") == "connected" and w.get("path") == want else 1)
PY
}

# Initiator first: under p2pd; its first workers find no target (exit 14)
# and autoconnect 2 brings one back that connects once the target is there.
cell_initiator_first() {
	local ik=$1 tk=$2 want
	want=$(want_path "$ik" "$tk")
	setup "$ik" "$tk"
	sup_initiator
	check "without a target the initiator's worker exits 14" \
		wait_log p2pd "worker $P2P_UID \\(pid [0-9]*\\) exited with 14" 10
	start_target
	check "p2pctl status: connected, path $want" wait_for $((PUNCH + 20)) path_is "$want"
	check "a $((BLOB / 1000000)) MB transfer arrives intact (sha256)" p2p_fetch_sha 33000 "$E2E_TMP/www/blob"
	check "the target's path is $want" grep -q "tunnel up with $P2P_USER: path $want" "$(log_of tgt)"
}

for ik in none masq sym; do
	for tk in none masq sym; do
		cell "target first, initiator $ik, target $tk: $(want_path "$ik" "$tk")" \
			cell_target_first "$ik" "$tk"
	done
done
cell "target first, initiator full cone, target sym: direct" cell_target_first full sym
cell "target first, initiator sym, target full cone: direct" cell_target_first sym full

for c in "none none" "none masq" "none sym" "masq none" "masq masq" "masq sym" "sym none" \
	"sym masq" "sym sym" "full sym" "sym full"; do
	read -r ik tk <<<"$c"
	cell "initiator first, initiator $ik, target $tk: $(want_path "$ik" "$tk")" \
		cell_initiator_first "$ik" "$tk"
done

# relay = no: nothing can carry a sym/sym session; the initiator exits 21.
no_relay() {
	setup sym sym "relay = no"
	start_target
	p2p_initiator_conf "$E2E_TMP/ini.conf" "punch_timeout 2"
	spawn "$NS_INI" ini "$CONNECTD" -s -f "$E2E_TMP/ini.conf"
	check "the initiator exits 21" expect_exit ini 21 20
	check "with a clear !!exit line" grep -q '^!!exit 21 : ' "$(log_of ini)"
	kill_proc rdv TERM
	wait_exit rdv 5 || true
	check "the server counted the RELAYs it dropped (relay off)" \
		grep -Eq 'dropped: relay off [1-9][0-9]*,' "$(log_of rdv)"
}
cell "relay = no: sym/sym exits 21" no_relay

# A peer-reflexive address: behind a symmetric NAT the initiator's punching
# comes from a port the target was never told about; the target adopts it.
reflexive() {
	setup sym none
	p2p_target_conf "$E2E_TMP/tgt.conf" "punch_timeout $PUNCH"
	spawn "$NS_TGT" tgt "$CONNECTD" -s -v -f "$E2E_TMP/tgt.conf"
	wait_log tgt '^!!status registered' 10
	p2p_initiator_conf "$E2E_TMP/ini.conf" "punch_timeout $PUNCH"
	spawn "$NS_INI" ini "$CONNECTD" -s -f "$E2E_TMP/ini.conf"
	check "connects" wait_log ini '^Proxy started\.' 15
	check "the target logged the peer-reflexive address it adopted" \
		grep -q "peer-reflexive address $IP_INI_PUB:[0-9]* adopted" "$(log_of tgt)"
	check "a transfer arrives intact" p2p_fetch_sha 33000 "$E2E_TMP/www/blob"
}
cell "a peer-reflexive address is adopted" reflexive

# Network change: conntrack flushed on the initiator's symmetric NAT in the
# middle of a transfer. Its next packets leave from a new random port; the
# target moves the path there and the transfer completes.
flush() {
	setup sym none
	start_target
	p2p_initiator_conf "$E2E_TMP/ini.conf" "punch_timeout $PUNCH"
	spawn "$NS_INI" ini "$CONNECTD" -s -f "$E2E_TMP/ini.conf"
	wait_log ini '^Proxy started\.' 15
	p2p_blob "$E2E_TMP/www/big" 40000000
	spawn "$NS_INI" big curl --noproxy '*' -sS --max-time 90 --limit-rate 4M \
		-o "$E2E_TMP/big.got" http://127.0.0.1:33000/big
	wait_for 15 test -s "$E2E_TMP/big.got"
	nsx "$NS_NATI" conntrack -F 2>/dev/null
	check "the transfer was under way at the flush" running big
	check "the transfer completes after the flush" expect_exit big 0 60
	check "the data is intact (sha256)" cmp -s "$E2E_TMP/www/big" "$E2E_TMP/big.got"
	check "the target moved the path to the new mapping" grep -q "peer $P2P_USER moved to $IP_INI_PUB:" "$(log_of tgt)"
	check "the tunnel is still up afterwards" p2p_fetch_sha 33000 "$E2E_TMP/www/blob"
}
cell "conntrack flushed on a NAT mid-transfer" flush

# peer_block NS IP / peer_unblock NS: drop (or stop dropping) UDP from IP in
# NS's input path: the peers cannot reach each other directly, the server
# can reach both.
peer_block() {
	nsx "$1" nft -f - <<NFT
table ip p2p_peerblock {
	chain input {
		type filter hook input priority filter; policy accept;
		meta l4proto udp ip saddr $2 counter drop
	}
}
NFT
}
peer_unblock() { nsx "$1" nft delete table ip p2p_peerblock; }

# Switch-over: no direct path at first (each peer drops the other's UDP), so
# the tunnel comes up relayed; the block is lifted in the middle of a
# transfer and the peers move to the direct path without breaking it.
switch_over() {
	setup none none
	peer_block "$NS_TGT" "$IP_INI_PUB"
	peer_block "$NS_INI" "$IP_TGT_PUB"
	start_target
	p2p_initiator_conf "$E2E_TMP/ini.conf" "punch_timeout 2"
	spawn "$NS_INI" ini "$CONNECTD" -s -f "$E2E_TMP/ini.conf"
	wait_log ini '^Proxy started\.' 15
	check "the tunnel comes up relayed" grep -q '^!!path relay ' "$(log_of ini)"
	p2p_blob "$E2E_TMP/www/big" 30000000
	spawn "$NS_INI" big curl --noproxy '*' -sS --max-time 90 --limit-rate 3M \
		-o "$E2E_TMP/big.got" http://127.0.0.1:33000/big
	wait_for 15 test -s "$E2E_TMP/big.got"
	peer_unblock "$NS_TGT"
	peer_unblock "$NS_INI"
	check "the initiator switches to the direct path (status line)" \
		wait_log ini "^!!path direct peer=$IP_TGT_PUB:" 10
	check "the target logs the switch" wait_log tgt "path to $P2P_USER is direct now" 10
	check "the transfer was under way at the switch" running big
	check "the transfer completes" expect_exit big 0 60
	check "the data is intact (sha256)" cmp -s "$E2E_TMP/www/big" "$E2E_TMP/big.got"
}
cell "relayed, then a direct path appears: switch-over without breaking streams" switch_over

# The server restarts under a relayed tunnel: it forgets every login and
# session. Both peers log in again (ERROR 7 on their next keep-alive); the
# initiator's new login brings a new relay session for the same tunnel, the
# target learns it from the first datagram relayed under it, and traffic
# flows again through the same tunnel (no new handshake, no new worker).
rdv_restart() {
	setup sym sym
	p2p_target_conf "$E2E_TMP/tgt.conf" "punch_timeout $PUNCH" "keepalive 2"
	spawn "$NS_TGT" tgt "$CONNECTD" -s -f "$E2E_TMP/tgt.conf"
	wait_log tgt '^!!status registered' 10
	p2p_initiator_conf "$E2E_TMP/ini.conf" "punch_timeout $PUNCH" "keepalive 2"
	spawn "$NS_INI" ini "$CONNECTD" -s -f "$E2E_TMP/ini.conf"
	wait_log ini '^Proxy started\.' $((PUNCH + 10))
	check "relayed" grep -q '^!!path relay ' "$(log_of ini)"
	kill_proc rdv TERM
	wait_exit rdv 5 || true
	p2p_start_rdv rdv2
	check "the initiator logs in again without a new tunnel" \
		wait_log ini 'relayed as session [0-9a-f]{16} from now on' 15
	check "the target follows the new relay session" \
		wait_log tgt 'relayed as session [0-9a-f]{16} from now on' 15
	check "a transfer through the same tunnel arrives intact" p2p_fetch_sha 33000 "$E2E_TMP/www/blob"
	check "the initiator is still the same process, connected once" \
		test "$(grep -c '^Proxy started\.' "$(log_of ini)")" = 1
	check "the new server relays it" grep -q "relaying session" "$(log_of rdv2)"
}
cell "rendezvousd restarts under a relayed tunnel" rdv_restart

# With a sanitizer build or under valgrind, any report in any process's
# output (every process has exited by now) fails.
no_reports() {
	local hits f
	hits=$(grep -rlE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|==[0-9]+== (Invalid|Conditional|Syscall param|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' \
		"$E2E_TMP" --include='*.log*' 2>/dev/null || true)
	if [[ -n $hits ]]; then
		for f in $hits; do
			diag "report in $f:"
			diag "$(head -n 40 "$f")"
		done
		return 1
	fi
}
check "no sanitizer or valgrind report in any process's output" no_reports
