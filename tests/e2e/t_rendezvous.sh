#!/usr/bin/env bash
# Rendezvous, registration, introductions, hole punching and the handshake,
# with real processes in network namespaces behind NAT routers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p2plib.sh"
need_bin rendezvousd connectd
p2p_accounts

# Both sides behind port-preserving NATs: direct path to each other's public address.
two_nats() {
	topo_two_nats masq masq
	p2p_rdv_conf
	p2p_start_rdv
	p2p_target_conf "$E2E_TMP/tgt.conf"
	p2p_initiator_conf "$E2E_TMP/ini.conf"
	spawn "$NS_TGT" tgt "$CONNECTD" -s -f "$E2E_TMP/tgt.conf"
	wait_log tgt '^!!status registered' 10
	spawn "$NS_INI" ini "$CONNECTD" -s -f "$E2E_TMP/ini.conf"
	wait_log ini '^!!connected' 15
	wait_log tgt 'tunnel up' 5
	check "the rendezvous server logged the registration" grep -q "registered $P2P_UID from $IP_TGT_PUB:" "$(log_of rdv)"
	check "the rendezvous server logged the introduction" grep -q "introduced $P2P_USER -> $P2P_UID" "$(log_of rdv)"
	check "the initiator's path is direct to the target's public address" \
		grep -q "^!!path direct peer=$IP_TGT_PUB:[0-9]* handshake_ms=" "$(log_of ini)"
	check "the target's path is direct to the initiator's public address" \
		grep -q "tunnel up with $P2P_USER: path direct, peer $IP_INI_PUB:" "$(log_of tgt)"
	check "both print !!connected" grep -q '^!!connected' "$(log_of tgt)"
	check "no secret appears in any log" ! grep -rqF -e "$P2P_SECRET" -e "$P2P_HASH" -e "$P2P_PASS" "$LOGDIR"
}
scenario "two port-preserving NATs" two_nats

# Both peers on one LAN behind one NAT without hairpinning: only the local
# candidates can work, so finding each other proves they were used.
same_lan() {
	topo_same_lan masq
	p2p_rdv_conf
	p2p_start_rdv
	p2p_target_conf "$E2E_TMP/tgt.conf"
	p2p_initiator_conf "$E2E_TMP/ini.conf"
	spawn "$NS_TGT" tgt "$CONNECTD" -s -f "$E2E_TMP/tgt.conf"
	wait_log tgt '^!!status registered' 10
	spawn "$NS_INI" ini "$CONNECTD" -s -f "$E2E_TMP/ini.conf"
	wait_log ini '^!!connected' 15
	check "the initiator reached the target's LAN address" \
		grep -q "^!!path direct peer=$IP_TGT:" "$(log_of ini)"
	check "the target reached the initiator's LAN address" \
		grep -q "path direct, peer $IP_INI:" "$(log_of tgt)"
}
scenario "both peers on one LAN behind one NAT" same_lan

refusals() {
	topo_two_nats masq masq
	p2p_rdv_conf
	p2p_start_rdv
	p2p_target_conf "$E2E_TMP/tgt.conf"
	spawn "$NS_TGT" tgt "$CONNECTD" -s -f "$E2E_TMP/tgt.conf"
	wait_log tgt '^!!status registered' 10

	p2p_initiator_conf "$E2E_TMP/bad.conf"
	sed -i "s/^auth_hash .*/auth_hash $("$CONNECTD" --hash "$P2P_USER" wrong-password)/" "$E2E_TMP/bad.conf"
	spawn "$NS_INI" badpw "$CONNECTD" -s -f "$E2E_TMP/bad.conf"
	check "a wrong password exits 11" expect_exit badpw 11 15
	check "with a clear !!exit line" grep -q '^!!exit 11 : .*bad credentials' "$(log_of badpw)"

	p2p_initiator_conf "$E2E_TMP/unreg.conf"
	sed -i "s/^remote_address .*/remote_address $P2P_UID2/" "$E2E_TMP/unreg.conf"
	spawn "$NS_INI" unreg "$CONNECTD" -s -f "$E2E_TMP/unreg.conf"
	check "a UID that is not registered exits 14" expect_exit unreg 14 15

	p2p_initiator_conf "$E2E_TMP/nouser.conf"
	sed -i "s/^user_id .*/user_id mallory@example.com/" "$E2E_TMP/nouser.conf"
	spawn "$NS_INI" nouser "$CONNECTD" -s -f "$E2E_TMP/nouser.conf"
	check "an unknown user exits 10" expect_exit nouser 10 15

	p2p_initiator_conf "$E2E_TMP/bob.conf"
	sed -i -e "s/^user_id .*/user_id bob@example.com/" \
		-e "s/^auth_hash .*/auth_hash $("$CONNECTD" --hash bob@example.com bobs-password)/" "$E2E_TMP/bob.conf"
	spawn "$NS_INI" bob "$CONNECTD" -s -f "$E2E_TMP/bob.conf"
	check "a UID the user may not reach exits 11" expect_exit bob 11 15
	refusals_logged() { # one "refused" line per refused initiator (four above)
		local n
		n=$(grep -c "refused" "$(log_of rdv)")
		diag "$n refusals logged"
		((n >= 4))
	}
	check "the server logged each refusal" refusals_logged
}
scenario "refusals map to exit codes" refusals

restart() {
	topo_two_nats masq masq
	p2p_rdv_conf
	p2p_start_rdv rdv
	p2p_target_conf "$E2E_TMP/tgt.conf" "keepalive 2"
	spawn "$NS_TGT" tgt "$CONNECTD" -s -f "$E2E_TMP/tgt.conf"
	wait_log tgt '^!!status registered' 10
	kill_proc rdv TERM
	wait_exit rdv 5
	p2p_start_rdv rdv2
	# The target's next keep-alive (every 2 s here) finds the new server.
	check "the target registered again with the restarted server within its keep-alive interval" \
		wait_log rdv2 "registered $P2P_UID from" 4
	p2p_initiator_conf "$E2E_TMP/ini.conf"
	spawn "$NS_INI" ini "$CONNECTD" -s -f "$E2E_TMP/ini.conf"
	check "an initiator connects through the restarted server" wait_log ini '^!!connected' 15
}
scenario "rendezvousd restart" restart
