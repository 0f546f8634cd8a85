# shellcheck shell=bash
# tests/e2e/p2plib.sh: p2pd-specific helpers for the scenarios, on top of lib.sh.
#
#   p2p_accounts                 passwords, auth_hash, secret for the standard account/device
#   p2p_rdv_conf [LINES...]      $E2E_TMP/rdv.conf ([server] on $IP_RDV:5959, extra lines appended)
#   p2p_start_rdv [NAME]         rendezvousd in $NS_RDV, waits until it listens
#   p2p_target_conf FILE [LINES...]     target provisioning (UID $P2P_UID)
#   p2p_initiator_conf FILE [LINES...]  initiator provisioning (user $P2P_USER)
#   p2p_web NS NAME IP PORT DIR  a web server (python3) serving DIR
#   p2p_blob FILE SIZE           SIZE bytes of random data
#   p2p_fetch_sha PORT FILE [TIMEOUT_S]  curl FILE's name from $NS_INI through 127.0.0.1:PORT, compare sha256
#   p2p_peer_of NAME             the peer address a connectd reported ("tunnel up ... peer A:P")

P2P_UID=80:00:00:00:01:00:0A:C2
P2P_UID2=80:00:00:00:01:00:0A:C3
P2P_USER=alice@example.com
P2P_PASS=correct-horse-battery
P2P_SECRET=0123456789abcdef-target-secret
P2P_SECRET2=fedcba9876543210-target-secret
P2P_UID3=80:00:00:00:01:00:0A:C4
P2P_SECRET3=00112233445566778899-third-secret

p2p_accounts() {
	P2P_HASH=$("$CONNECTD" --hash "$P2P_USER" "$P2P_PASS")
	export P2P_HASH
}

p2p_rdv_conf() {
	{
		echo "[server]"
		echo "listen = $IP_RDV:5959"
		echo "alt_address = ${IP_RDV_ALT:-}"
		for l in "$@"; do echo "$l"; done
		echo
		echo "[user $P2P_USER]"
		echo "auth_hash = $P2P_HASH"
		echo "allow = $P2P_UID $P2P_UID2 $P2P_UID3"
		echo
		echo "[user bob@example.com]"
		echo "auth_hash = $("$CONNECTD" --hash bob@example.com bobs-password)"
		echo "allow = $P2P_UID2"
		echo
		echo "[device $P2P_UID]"
		echo "secret = $P2P_SECRET"
		echo "name = web"
		echo
		echo "[device $P2P_UID2]"
		echo "secret = $P2P_SECRET2"
		echo "name = other"
		echo
		echo "[device $P2P_UID3]"
		echo "secret = $P2P_SECRET3"
		echo "name = third"
	} >"$E2E_TMP/rdv.conf"
	chmod 600 "$E2E_TMP/rdv.conf"
}

p2p_start_rdv() {
	local name=${1:-rdv}
	spawn "$NS_RDV" "$name" "$RENDEZVOUSD" -c "$E2E_TMP/rdv.conf"
	wait_log "$name" 'listening on TCP' 10
}

p2p_target_conf() {
	local f=$1
	shift
	{
		echo "UID $P2P_UID"
		echo "secret $P2P_SECRET"
		echo "proxy_dest_ip 127.0.0.1"
		echo "proxy_dest_port 8080"
		echo "server $IP_RDV:5959"
		for l in "$@"; do echo "$l"; done
	} >"$f"
	chmod 600 "$f"
}

p2p_initiator_conf() {
	local f=$1
	shift
	{
		echo "user_id $P2P_USER"
		echo "auth_hash $P2P_HASH"
		echo "remote_address $P2P_UID"
		echo "proxy_local_port 33000"
		echo "server $IP_RDV:5959"
		for l in "$@"; do echo "$l"; done
	} >"$f"
	chmod 600 "$f"
}

# p2p_device N: "UID SECRET" of device 1, 2 or 3.
p2p_device() {
	case $1 in
	1) echo "$P2P_UID $P2P_SECRET" ;;
	2) echo "$P2P_UID2 $P2P_SECRET2" ;;
	3) echo "$P2P_UID3 $P2P_SECRET3" ;;
	esac
}

# p2p_pair N NAME DESTPORT LOCALPORT MODE [LINES...]: a target for device N
# in $NS_TGT exposing 127.0.0.1:DESTPORT, and an initiator in $NS_INI serving
# it on 127.0.0.1:LOCALPORT with encryption MODE; waits until the initiator
# prints "Proxy started.". Processes are tNAME and iNAME. Each LINE goes into
# the initiator's file, or, written "t:LINE", into the target's.
p2p_pair() {
	local n=$1 name=$2 dport=$3 lport=$4 mode=$5 uid secret l
	local -a ilines=() tlines=()
	shift 5
	for l in "$@"; do
		if [[ $l == t:* ]]; then
			tlines+=("${l#t:}")
		else
			ilines+=("$l")
		fi
	done
	read -r uid secret <<<"$(p2p_device "$n")"
	p2p_target_conf "$E2E_TMP/t$name.conf" "proxy_dest_port $dport" "${tlines[@]}"
	sed -i -e "s/^UID .*/UID $uid/" -e "s/^secret .*/secret $secret/" "$E2E_TMP/t$name.conf"
	p2p_initiator_conf "$E2E_TMP/i$name.conf" "proxy_local_port $lport" "encryption $mode" \
		"${ilines[@]}"
	sed -i "s/^remote_address .*/remote_address $uid/" "$E2E_TMP/i$name.conf"
	spawn "$NS_TGT" "t$name" "$CONNECTD" -s -f "$E2E_TMP/t$name.conf"
	wait_log "t$name" '^!!status registered' 10
	spawn "$NS_INI" "i$name" "$CONNECTD" -s -f "$E2E_TMP/i$name.conf"
	wait_log "i$name" '^Proxy started\.' 15
}

p2p_web() {
	local ns=$1 name=$2 ip=$3 port=$4 dir=$5
	spawn "$ns" "$name" "$E2E_PYTHON" -m http.server "$port" --bind "$ip" --directory "$dir"
	wait_port "$ns" "$ip" "$port" 10
}

p2p_blob() {
	head -c "$2" /dev/urandom >"$1"
}

# p2p_fetch_sha PORT FILE [TIMEOUT_S]: in $NS_INI, curl the basename of FILE
# from the web server behind the tunnel on 127.0.0.1:PORT (within TIMEOUT_S,
# default 60 s) and fail unless the sha256 of what came is that of FILE.
p2p_fetch_sha() {
	local port=$1 file=$2 got want
	nsx "$NS_INI" curl --noproxy '*' -sS --max-time "${3:-60}" -o "$E2E_TMP/got.$port" \
		"http://127.0.0.1:$port/$(basename "$file")"
	want=$(sha256sum <"$file")
	got=$(sha256sum <"$E2E_TMP/got.$port")
	rm -f "$E2E_TMP/got.$port"
	[[ $got == "$want" ]] || {
		diag "sha256 differs: want $want got $got"
		return 1
	}
}

p2p_peer_of() {
	sed -n 's/.*tunnel up with .*peer \([0-9.]*:[0-9]*\),.*/\1/p' "$(log_of "$1")" | tail -n 1
}
