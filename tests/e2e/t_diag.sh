#!/usr/bin/env bash
# t_diag.sh: connectd -n against a standard STUN server: turnserver (coturn)
# in STUN-only mode on the public segment, with two addresses and two ports
# (RFC 5780), and nothing of p2pd on the server side.
#
#  - behind masquerade: the router preserves ports and does not remap; behind
#    masquerade random: it remaps; on a public address: no NAT. Every mapped
#    address and port printed is checked against the router's own conntrack
#    table, and every request connectd sends is checked to be padded
#    (common/stun.h STUN_PADDED_REQUEST_LEN) and answered.
#  - a server with one address (no RFC 5780, as most public servers are) and
#    one whose OTHER-ADDRESS changes the port only: exit 0, and the summary
#    says what could not be tested.
#  - the known-answer self-tests name every primitive the tunnel uses.
#  - the output keeps the seed's order: DNS, TCP, UDP probes, router summary,
#    Endian, self-tests, "Looks compatible.".
#  - each failure (DNS, TCP, UDP, the alternate port) exits non-zero where it
#    must and says what to allow in a firewall.
#  - with -s, "!!exit <code> : <message>" is the last line.
#
# connectd -n against rendezvousd is in t_cli.sh.
. "$(dirname "$0")/lib.sh"
need_bin connectd
need_cmd turnserver conntrack unshare timeout

STUN_PORT=3478
STUN_ALT_PORT=3479
# Every request connectd sends is a Binding request padded to
# STUN_PADDED_REQUEST_LEN = 20 + 4 * 24 + 8 = 124 bytes (common/stun.h): 132
# with the UDP header.
PADDED_UDP_LEN=132
STUN_NAME=stun.p2pd.test

# ---------------------------------------------------------------------------
# Helpers

# stun_server: turnserver as a plain STUN server in $NS_RDV, on both of the
# server's addresses and on ports 3478 and 3479 (UDP and TCP), so that its
# Binding responses carry OTHER-ADDRESS 203.0.113.100:3479 (or .1:3479).
# It writes nothing outside $E2E_TMP (no config file, its own user db).
stun_server() {
	spawn "$NS_RDV" stun turnserver --stun-only --no-auth -n --no-cli --no-tls --no-dtls \
		--listening-ip "$IP_RDV" --listening-ip "$IP_RDV_ALT" \
		--listening-port "$STUN_PORT" --alt-listening-port "$STUN_ALT_PORT" \
		--userdb "$E2E_TMP/turndb" --pidfile "$E2E_TMP/turnserver.pid" \
		--log-file stdout --simple-log
	local ip port
	for ip in "$IP_RDV" "$IP_RDV_ALT"; do
		for port in "$STUN_PORT" "$STUN_ALT_PORT"; do
			wait_udp "$NS_RDV" "$ip" "$port" 10 stun
		done
	done
	wait_port "$NS_RDV" "$IP_RDV" "$STUN_PORT" 10 stun
}

# plain_stun_server PORT: a second turnserver on $IP_RDV:PORT alone: one
# address, so no RFC 5780 (no OTHER-ADDRESS, no alternate port), as most
# public STUN servers are.
plain_stun_server() {
	spawn "$NS_RDV" plain turnserver --stun-only --no-auth -n --no-cli --no-tls --no-dtls \
		--listening-ip "$IP_RDV" --listening-port "$1" \
		--userdb "$E2E_TMP/turndb.plain" --pidfile "$E2E_TMP/turnserver.plain.pid" \
		--log-file stdout --simple-log
	wait_udp "$NS_RDV" "$IP_RDV" "$1" 10 plain
}

# count_requests: count, on the server host, the STUN requests that arrive
# padded to $PADDED_UDP_LEN and those that do not.
count_requests() {
	nsx "$NS_RDV" nft -f - <<EOF
table inet h18_stun {
	counter padded {}
	counter other {}
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport { $STUN_PORT, $STUN_ALT_PORT } udp length $PADDED_UDP_LEN counter name "padded"
		udp dport { $STUN_PORT, $STUN_ALT_PORT } udp length != $PADDED_UDP_LEN counter name "other"
	}
}
EOF
}

requests() { # requests padded|other: that counter's packets since the last reset
	local out
	out=$(nsx "$NS_RDV" nft list counter inet h18_stun "$1")
	[[ $out =~ packets\ ([0-9]+) ]] || return 1
	echo "${BASH_REMATCH[1]}"
}

reset_requests() {
	nsx "$NS_RDV" nft reset counters table inet h18_stun >/dev/null
}

# firewall NS RULE|-: a forward-path rule in router NS (as a firewall there
# would have it), or "-" to remove it.
firewall() {
	if [[ $2 == - ]]; then
		nsx "$1" nft delete table inet h18_fw
		return
	fi
	nsx "$1" nft -f - <<EOF
table inet h18_fw {
	chain forward {
		type filter hook forward priority filter; policy accept;
		$2 counter drop
	}
}
EOF
}

# Name resolution for run_n when RUN_DNS=1: a private mount namespace where
# /etc/hosts names the server $STUN_NAME and /etc/resolv.conf points at a
# name server that is not there (so any other name fails at once).
dns_files() {
	printf '127.0.0.1 localhost\n%s %s\n' "$IP_RDV" "$STUN_NAME" >"$E2E_TMP/hosts"
	printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' >"$E2E_TMP/resolv.conf"
}

# run_n NAME NS ARGS...: connectd ARGS in NS, in the foreground, at most 30 s,
# without P2P_SERVER unless RUN_ENV sets it; stdout in $E2E_TMP/NAME.out,
# stderr in NAME.err, the exit status in NAME.rc.
RUN_DNS=0
RUN_ENV=()
run_n() {
	local name=$1 nsarg=$2 rc=0
	local -a pre=()
	shift 2
	if ((RUN_DNS)); then
		# shellcheck disable=SC2016 # expanded by that bash
		pre=(unshare -m bash -c 'mount --bind "$1" /etc/hosts &&
			mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' _ \
			"$E2E_TMP/hosts" "$E2E_TMP/resolv.conf")
	fi
	nsx "$nsarg" "${pre[@]}" env -u P2P_SERVER -u P2PD_SUPERVISED -u P2PD_STATUS_FD \
		"${RUN_ENV[@]}" timeout 30 "$CONNECTD" "$@" \
		>"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err" </dev/null || rc=$?
	echo "$rc" >"$E2E_TMP/$name.rc"
	diag "connectd $*: exit status $rc"
}

rc_is() { # rc_is NAME WANT (WANT "nonzero": any failure that is not a crash)
	local rc
	rc=$(cat "$E2E_TMP/$1.rc")
	if [[ $2 == nonzero ]]; then
		((rc != 0 && rc < 124)) && return 0
	elif [[ $rc == "$2" ]]; then
		return 0
	fi
	diag "exit status $rc, want $2"
	show "$E2E_TMP/$1.out" "$E2E_TMP/$1.err"
	return 1
}

# has NAME REGEX...: some line of NAME's stdout matches each extended REGEX.
has() {
	local name=$1 re
	shift
	for re in "$@"; do
		if ! grep -Eq -- "$re" "$E2E_TMP/$name.out"; then
			diag "no line matches: $re"
			show "$E2E_TMP/$name.out" "$E2E_TMP/$name.err"
			return 1
		fi
	done
}

# in_order NAME REGEX...: NAME's stdout has lines matching the REGEXes in this
# order (each after the line the previous one matched).
in_order() {
	local name=$1 re i=0 n
	local -a lines
	shift
	mapfile -t lines <"$E2E_TMP/$name.out"
	n=${#lines[@]}
	for re in "$@"; do
		while ((i < n)) && [[ ! ${lines[i]} =~ $re ]]; do i=$((i + 1)); done
		if ((i >= n)); then
			diag "no line matching '$re' after the ones before it"
			show "$E2E_TMP/$name.out"
			return 1
		fi
		i=$((i + 1))
	done
}

last_line_is() { # last_line_is NAME REGEX
	local last
	last=$(tail -n 1 "$E2E_TMP/$1.out")
	if [[ ! $last =~ $2 ]]; then
		diag "last line '$last' does not match '$2'"
		show "$E2E_TMP/$1.out" "$E2E_TMP/$1.err"
		return 1
	fi
}

# The seed's order: DNS, TCP, UDP with three probes, the summary, Endian, the
# self-tests, the verdict (the last line).
seed_order() {
	in_order "$1" '^Running Network Diagnostics$' \
		'^Checking if DNS works \.\.\. \.\[OK\]' \
		'^Checking TCP connectivity to [^ ]+ \[OK\]$' \
		'^Checking UDP connectivity to ' \
		'^Send to ' '^Send to ' '^Send to .*\[OK\]$' \
		'^This (router|host) ' \
		'^Endian : Little$' \
		'^XXTEA test: \[OK\]$' '^RC4 test: \[OK\]$' '^ChaCha20-Poly1305 test: \[OK\]$' \
		'^Looks compatible\.$'
	last_line_is "$1" '^Looks compatible\.$'
	! grep -q 'test: \[FAILED\]' "$E2E_TMP/$1.out"
}

# probes NAME: the probe lines as "SERVER MIP OPORT MPORT|TAGS", one a line.
probes() {
	local l re='^Send to \[([0-9.]+:[0-9]+)\] \[mip=([0-9.]+)\] \[oport=([0-9]+) mport=([0-9]+)\](.*)$'
	while IFS= read -r l; do
		if [[ $l =~ $re ]]; then
			printf '%s %s %s %s|%s\n' "${BASH_REMATCH[@]:1:4}" "${BASH_REMATCH[5]# }"
		else
			printf '%s\n' "$l"
		fi
	done < <(grep '^Send to ' "$E2E_TMP/$1.out")
}

# probe_servers NAME WANT...: the probes went to exactly these servers.
probe_servers() {
	local name=$1 got
	shift
	got=$(probes "$name" | cut -d' ' -f1 | tr '\n' ' ')
	[[ ${got% } == "$*" ]] || {
		diag "probes went to '${got% }', want '$*'"
		show "$E2E_TMP/$name.out"
		return 1
	}
}

# probe_tags NAME TAGS...: probe i ends in exactly TAGS[i].
probe_tags() {
	local name=$1 i=0 l
	shift
	local -a want=("$@") got=()
	while IFS= read -r l; do got+=("${l#*|}"); done < <(probes "$name")
	if ((${#got[@]} != ${#want[@]})); then
		diag "${#got[@]} probe lines, want ${#want[@]}"
		show "$E2E_TMP/$name.out"
		return 1
	fi
	for ((i = 0; i < ${#want[@]}; i++)); do
		if [[ ${got[i]} != "${want[i]}" ]]; then
			diag "probe $((i + 1)): '${got[i]}', want '${want[i]}'"
			show "$E2E_TMP/$name.out"
			return 1
		fi
	done
}

# mapped_ip NAME IP: every probe reports IP as the mapped address.
mapped_ip() {
	local server mip rest rc=0
	while read -r server mip rest; do
		[[ $mip == "$2" ]] || {
			diag "probe to $server: mip=$mip, want $2"
			rc=1
		}
	done < <(probes "$1")
	return $rc
}

# ports_preserved NAME: every probe's mapped port is the local port.
ports_preserved() {
	local server mip oport mport rc=0
	while read -r server mip oport mport; do
		mport=${mport%%|*}
		((oport == mport)) || {
			diag "probe to $server: oport=$oport mport=$mport"
			rc=1
		}
	done < <(probes "$1")
	return $rc
}

# ports_remapped NAME: every probe got a port of its own, none the local one.
ports_remapped() {
	local server mip oport mport rc=0 seen=" "
	while read -r server mip oport mport; do
		mport=${mport%%|*}
		if ((oport == mport)) || [[ $seen == *" $mport "* ]]; then
			diag "probe to $server: oport=$oport mport=$mport (seen:$seen)"
			rc=1
		fi
		seen+="$mport "
	done < <(probes "$1")
	return $rc
}

# conntrack_agrees NAME NAT_NS LAN_IP: each mapped port connectd printed is
# the port the router really mapped that flow to (its conntrack reply tuple).
conntrack_agrees() {
	local name=$1 nat=$2 lan=$3 server mip oport mport entry real rc=0
	while read -r server mip oport mport; do
		mport=${mport%%|*}
		entry=$(nsx "$nat" conntrack -L -p udp --orig-src "$lan" --orig-dst "${server%:*}" \
			--orig-port-src "$oport" --orig-port-dst "${server#*:}" 2>/dev/null)
		real=$(grep -o 'dport=[0-9]*' <<<"$entry" | sed -n '2s/dport=//p')
		diag "$lan:$oport -> $server: connectd says mport $mport, conntrack says ${real:-none}"
		[[ $real == "$mport" ]] || rc=1
	done < <(probes "$name")
	return $rc
}

# summary_is NAME LINE...: the lines between the last probe and "Endian" are
# exactly these.
summary_is() {
	local name=$1 got want
	shift
	got=$(awk '/^Endian : / { exit } s { print } /^Send to / { s = 1 }' "$E2E_TMP/$name.out" |
		grep -v '^Send to ' || true)
	want=$(printf '%s\n' "$@")
	[[ $got == "$want" ]] || {
		diag "summary:" "$got" "want:" "$want"
		return 1
	}
}

all_padded() { # every request since the last reset was padded, and some were sent
	local p o
	p=$(requests padded)
	o=$(requests other)
	diag "requests at the server: $p padded to $PADDED_UDP_LEN UDP bytes, $o of another size"
	((p >= 3 && o == 0))
}

# ---------------------------------------------------------------------------
# Behind masquerade and masquerade random.

behind_nats() {
	topo_two_nats masq sym
	stun_server
	count_requests
	local srv=$IP_RDV:$STUN_PORT
	local -a servers=("$srv" "$IP_RDV:$STUN_ALT_PORT" "$IP_RDV_ALT:$STUN_ALT_PORT")

	run_n masq "$NS_INI" -n -y "$srv"
	check "masquerade: exit 0" rc_is masq 0
	check "masquerade: the seed's order, every self-test [OK], 'Looks compatible.' last" \
		seed_order masq
	check "masquerade: a known-answer test [OK] for each primitive the tunnel uses" \
		has masq '^XXTEA test: \[OK\]$' '^RC4 test: \[OK\]$' '^BLAKE2b MAC test: \[OK\]$' \
		'^ChaCha20-Poly1305 test: \[OK\]$' '^XChaCha20-Poly1305 test: \[OK\]$' \
		'^X25519 test: \[OK\]$' '^Argon2id auth_hash test: \[OK\]$'
	check "masquerade: TCP to the STUN server's port works" \
		has masq "^Checking TCP connectivity to $srv \\[OK\\]$"
	check "masquerade: probes to the server, its alternate port, its OTHER-ADDRESS" \
		probe_servers masq "${servers[@]}"
	check "masquerade: every mapped address is the router's ($IP_INI_PUB)" \
		mapped_ip masq "$IP_INI_PUB"
	check "masquerade: every mapped port is the local port" ports_preserved masq
	check "masquerade: the mapped ports are the router's own (conntrack)" \
		conntrack_agrees masq "$NS_NATI" "$IP_INI"
	check "masquerade: [preserve port], [no remap] [preserve port], [no remap] [preserve port different IP] [OK]" \
		probe_tags masq "[preserve port]" "[no remap] [preserve port]" \
		"[no remap] [preserve port different IP] [OK]"
	check "masquerade: the summary: preserves ports, does not remap" \
		summary_is masq "This router preserves ports, this is optimal." \
		"This router doesn't remap new connections to new ports."
	check "masquerade: every request was padded ($PADDED_UDP_LEN UDP bytes) (each answered: above)" \
		all_padded

	reset_requests
	run_n sym "$NS_TGT" -n -y "$srv"
	check "masquerade random: exit 0 (UDP works; the relay covers the rest)" rc_is sym 0
	check "masquerade random: the seed's order, 'Looks compatible.' last" seed_order sym
	check "masquerade random: probes to the server, its alternate port, its OTHER-ADDRESS" \
		probe_servers sym "${servers[@]}"
	check "masquerade random: every mapped address is the router's ($IP_TGT_PUB)" \
		mapped_ip sym "$IP_TGT_PUB"
	check "masquerade random: each probe has a mapped port of its own" ports_remapped sym
	check "masquerade random: the mapped ports are the router's own (conntrack)" \
		conntrack_agrees sym "$NS_NATT" "$IP_TGT"
	check "masquerade random: [new port], [remap] [new port], [remap] [new port different IP] [OK]" \
		probe_tags sym "[new port]" "[remap] [new port]" "[remap] [new port different IP] [OK]"
	check "masquerade random: the summary: does not preserve ports, remaps" \
		summary_is sym "This router does not preserve ports." \
		"This router remaps ports (symmetric NAT): direct connections may fail; the relay will be used."
	check "masquerade random: every request was padded" all_padded

	# The server from P2P_SERVER, and from the other side of its address pair.
	RUN_ENV=("P2P_SERVER=$srv")
	run_n env "$NS_INI" -n
	RUN_ENV=()
	check "without -y, P2P_SERVER names the server" \
		has env "^Checking TCP connectivity to $srv \\[OK\\]$" '^Looks compatible\.$'
	# turnserver pairs its first address with its second, not the other way
	# round: on the second address its OTHER-ADDRESS changes the port only
	# (203.0.113.100:3479), so mapping across addresses cannot be tested there.
	run_n alt "$NS_INI" -n -y "$IP_RDV_ALT:$STUN_PORT"
	check "a server whose OTHER-ADDRESS changes the port only: two probes" \
		probe_servers alt "$IP_RDV_ALT:$STUN_PORT" "$IP_RDV_ALT:$STUN_ALT_PORT"
	check "and the summary says mapping across addresses was not tested" \
		summary_is alt "This router preserves ports, this is optimal." \
		"This router doesn't remap new connections to new ports." \
		"The server has no alternate address: mapping across addresses was not tested."
	check "and it still exits 0" rc_is alt 0

	run_n status "$NS_INI" -s -n -y "$srv"
	check "-s: the last line is '!!exit 0 : <message>'" last_line_is status '^!!exit 0 : .+'
}
scenario "connectd -n against a standard STUN server behind NATs" behind_nats

# ---------------------------------------------------------------------------
# No NAT, and each thing that can fail.

failures() {
	topo_two_nats none masq
	stun_server
	dns_files
	local srv=$IP_RDV:$STUN_PORT

	run_n pub "$NS_INI" -n -y "$srv"
	check "a public address: exit 0" rc_is pub 0
	check "a public address: the mapped address is the host's own" mapped_ip pub "$IP_INI"
	check "a public address: the summary says there is no NAT" \
		summary_is pub "This host has a public address (no NAT), this is optimal."

	# A server without RFC 5780: connectd tries port + 1 (the rendezvousd
	# convention), gets no answer there, and says what it could not test.
	plain_stun_server 3490
	run_n plain "$NS_TGT" -n -y "$IP_RDV:3490"
	check "a STUN server with one address: exit 0" rc_is plain 0
	check "it is probed on its port, then on port + 1" \
		has plain "^Send to \\[$IP_RDV:3490\\] \\[mip=$IP_TGT_PUB\\] \\[oport=([0-9]+) mport=\\1\\] \\[preserve port\\]$" \
		"^Send to \\[$IP_RDV:3491\\] \\[no reply\\]$"
	check "the summary says what was not tested, and why" \
		summary_is plain "This router preserves ports, this is optimal." \
		"No reply from $IP_RDV:3491 (its alternate port): mapping across ports was not tested; the server may not offer it, or a firewall drops UDP to port 3491." \
		"The server has no alternate address: mapping across addresses was not tested."
	stop_proc plain

	# DNS, through a private /etc/hosts and /etc/resolv.conf.
	RUN_DNS=1
	run_n name "$NS_TGT" -n -y "$STUN_NAME:$STUN_PORT"
	check "a server name that resolves: DNS [OK] with its address" \
		has name "^Checking if DNS works \\.\\.\\. \\.\\[OK\\] $STUN_NAME is $srv$"
	check "and the other checks use it" \
		has name "^Checking TCP connectivity to $STUN_NAME:$STUN_PORT \\[OK\\]$" \
		'^Looks compatible\.$'
	run_n noname "$NS_TGT" -n -y "nothing.p2pd.invalid:$STUN_PORT"
	RUN_DNS=0
	check "a name that does not resolve: exits non-zero" rc_is noname nonzero
	check "and says DNS failed, naming the host" \
		has noname '^Checking if DNS works \.\.\. \[FAILED\] cannot resolve nothing\.p2pd\.invalid'
	check "and says what to allow in a firewall (DNS, port 53)" \
		has noname '^Checking if DNS works .*\[FAILED\].*port 53'
	check "and still runs the self-tests" has noname '^Endian : Little$' '^XXTEA test: \[OK\]$'
	check "and ends 'Not compatible'" last_line_is noname '^Not compatible'

	# TCP to the server's port dropped on the way.
	firewall "$NS_NATT" "ip daddr $IP_RDV tcp dport $STUN_PORT"
	run_n notcp "$NS_TGT" -n -y "$srv"
	firewall "$NS_NATT" -
	check "TCP dropped: exits non-zero" rc_is notcp nonzero
	check "TCP dropped: [FAILED], saying to allow outgoing TCP to port $STUN_PORT" \
		has notcp "^Checking TCP connectivity to $srv \\[FAILED\\] .*allow outgoing TCP to port $STUN_PORT in your firewall"
	check "TCP dropped: UDP still works" has notcp '^Send to .*\[OK\]$'
	check "TCP dropped: ends 'Not compatible'" last_line_is notcp '^Not compatible'

	# UDP to the alternate port dropped: the probes there go unanswered.
	firewall "$NS_NATT" "udp dport $STUN_ALT_PORT"
	run_n noalt "$NS_TGT" -n -y "$srv"
	firewall "$NS_NATT" -
	check "alternate port dropped: the first probe is answered" \
		has noalt "^Send to \\[$srv\\] \\[mip=$IP_TGT_PUB\\] "
	check "alternate port dropped: it names the port a firewall drops" \
		has noalt "^No reply from $IP_RDV:$STUN_ALT_PORT \\(its alternate port\\).*drops UDP to port $STUN_ALT_PORT\\.$" \
		"^No reply from $IP_RDV_ALT:$STUN_ALT_PORT \\(its alternate address\\).*drops UDP to port $STUN_ALT_PORT\\.$"

	# All UDP dropped.
	block_udp "$NS_NATT" "$IF_NAT_WAN"
	run_n noudp "$NS_TGT" -n -y "$srv"
	run_n noudps "$NS_TGT" -s -n -y "$srv"
	unblock_udp "$NS_NATT" "$IF_NAT_WAN"
	check "UDP blocked: exits non-zero" rc_is noudp nonzero
	check "UDP blocked: TCP still works" has noudp "^Checking TCP connectivity to $srv \\[OK\\]$"
	check "UDP blocked: says UDP is not working and to allow outgoing UDP to port $STUN_PORT" \
		has noudp "^UDP is not working: no reply from $srv; allow outgoing UDP to port $STUN_PORT in your firewall\\.$"
	check "UDP blocked: the failure is marked [FAILED], as the verdict says" \
		has noudp '^(Checking UDP|Send to|UDP is not).*\[FAILED\]'
	check "UDP blocked: ends 'Not compatible'" last_line_is noudp '^Not compatible'
	check "UDP blocked, -s: the last line is '!!exit <non-zero> : <message>'" \
		last_line_is noudps '^!!exit [1-9][0-9]* : .+'
}
scenario "connectd -n: no NAT, and what each failure says" failures

# With a sanitizer build (make check) or under valgrind, any report fails.
no_reports() {
	local hits f
	hits=$(grep -rlE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|==[0-9]+== (Invalid|Conditional|Syscall param|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' \
		"$E2E_TMP" --include='*.err' --include='*.out' 2>/dev/null || true)
	if [[ -n $hits ]]; then
		for f in $hits; do show "$f"; done
		return 1
	fi
}
check "no sanitizer or valgrind report in any connectd output" no_reports
