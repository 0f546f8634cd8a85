#!/bin/sh
# Installs (as root, with apt-get) or names (otherwise) what p2pd needs.
#
#   deps.sh check          build dependencies only; report what is missing
#   deps.sh install        build dependencies, installed when missing
#   deps.sh install-test   + the tools the test suite drives (ip, nft, curl, sshd, ...)
#   deps.sh install-demo   + what `make demo` uses
#   deps.sh install-bench  + iperf3, kcptun, ssh for `make bench`
#   deps.sh install-fuzz   + clang and libFuzzer for `make fuzz`
set -u
mode=${1:-check}
missing_pkgs=""
missing_brew=""

need() { # need <debian package> <homebrew formula or -> <test command...>
	deb=$1 brew=$2
	shift 2
	if ! "$@" >/dev/null 2>&1; then
		missing_pkgs="$missing_pkgs $deb"
		[ "$brew" = - ] || missing_brew="$missing_brew $brew"
	fi
}
have_pc() { pkg-config --exists "$1"; }
have_cmd() { command -v "$1"; }
have_header() { printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - ; }

need pkg-config pkg-config have_cmd pkg-config
need make - have_cmd make
need gcc - have_cmd cc
need libc6-dev - have_header stdio.h
need libsodium-dev libsodium have_pc libsodium
need libinih-dev inih have_pc inih
need libcmocka-dev cmocka have_pc cmocka
need libev-dev libev have_header ev.h
if [ "$(uname -s)" = Linux ]; then
	need libseccomp-dev - have_pc libseccomp
fi
case $mode in
install-test | install-demo | install-bench)
	need iproute2 - have_cmd ip
	need nftables - have_cmd nft
	need curl curl have_cmd curl
	need procps - have_cmd ps
	need python3 - have_cmd python3
	;;
esac
case $mode in
install-test)
	need man-db - have_cmd man
	need coturn - have_cmd turnserver
	need util-linux - have_cmd unshare
	need openssh-server - test -x /usr/sbin/sshd
	need openssh-client - have_cmd ssh
	need conntrack - have_cmd conntrack
	# t_install.sh: systemd-analyze verify/security and systemd-sysusers (no running systemd needed)
	need systemd - have_cmd systemd-analyze
	;;
install-fuzz)
	need clang - have_cmd clang
	need libclang-rt-14-dev - sh -c 'ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a'
	;;
install-bench)
	need iperf3 iperf3 have_cmd iperf3
	# kcptun only if the archive has it: without it the bench table says
	# "not installed" instead of make bench failing here.
	need kcptun - sh -c 'command -v kcptun-client || { [ -n "$(apt-cache pkgnames 2>/dev/null | head -n 1)" ] && ! apt-cache show kcptun; }'
	need openssh-server - test -x /usr/sbin/sshd
	need openssh-client - have_cmd ssh
	;;
esac

[ -z "$missing_pkgs" ] && exit 0

if [ "$(uname -s)" = Darwin ]; then
	echo "p2pd: missing dependencies; install them with: brew install$missing_brew" >&2
	exit 1
fi
if [ "$mode" = check ]; then
	echo "p2pd: missing dependencies:$missing_pkgs" >&2
	echo "p2pd: install them with: apt-get install$missing_pkgs   (or: sh scripts/deps.sh install, as root)" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "p2pd: missing dependencies:$missing_pkgs" >&2
	echo "p2pd: as root run: apt-get install -y$missing_pkgs" >&2
	exit 1
fi
echo "p2pd: installing missing packages:$missing_pkgs"
export DEBIAN_FRONTEND=noninteractive
# coturn is a test peer (a standard STUN server); its package would start a
# TURN server for the whole host where systemd runs: keep it stopped.
stop_coturn() { case " $missing_pkgs " in *" coturn "*) systemctl disable --now coturn >/dev/null 2>&1 || true ;; esac; }
if ! apt-get install -y -q --no-install-recommends $missing_pkgs >/tmp/p2pd-deps.log 2>&1; then
	apt-get update -q >>/tmp/p2pd-deps.log 2>&1
	if ! apt-get install -y -q --no-install-recommends $missing_pkgs >>/tmp/p2pd-deps.log 2>&1; then
		echo "p2pd: apt-get install$missing_pkgs failed; the log is /tmp/p2pd-deps.log:" >&2
		tail -n 20 /tmp/p2pd-deps.log >&2
		exit 1
	fi
fi
stop_coturn
exit 0
