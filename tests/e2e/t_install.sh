#!/usr/bin/env bash
# t_install.sh: make install into a scratch root, then the installed tree at
# work, run the way its service files say.
#
#  1. make install DESTDIR=$E2E_TMP/root PREFIX=/usr SERVICES="systemd launchd"
#     (with a private build directory): the exact list of files and their
#     modes, the paths the installed files name, p2pd's default worker_binary.
#  2. The installed service files: systemd-analyze verify says nothing, the
#     exposure of p2pd.service is at most 2.6 and that of rendezvousd.service
#     at most 2.0, the sysusers.d file makes the worker user and the control
#     group (applied to a copy of passwd and group), the launchd property
#     lists parse (plistlib) and name the installed programs; the installed
#     man pages format without warnings.
#  3. A tunnel through the installed programs, each started as its unit says
#     and inside what of the unit's sandbox can be had without systemd:
#     rendezvousd as an unnamed uid without capabilities, its configuration
#     copied by the unit's "+" lines; p2pd with a target and p2pd with an
#     initiator as root with the unit's capability bounding set. Each gets
#     no_new_privs, one seccomp filter made of the unit's SystemCallFilter=,
#     RestrictAddressFamilies= and MemoryDenyWriteExecute=, and a mount
#     namespace with a read-only file system, a private /tmp, /dev and /proc
#     (hidepid=invisible, subset=pid) and /run holding only the runtime
#     directory. curl gets a file through the tunnel; then p2pctl status, the
#     bash completion, each unit's ExecReload and a stop.
#  4. make uninstall keeps what the user changed or added and a foreign file,
#     and nothing else; install, install again, uninstall leaves only the
#     foreign files.
#
# Not emulated: PrivateUsers= (rendezvousd), ProtectKernel*=, ProtectClock=,
# ProtectHostname=, RestrictNamespaces=, RestrictRealtime=, LockPersonality=,
# RestrictSUIDSGID=, PrivateIPC=, RemoveIPC=.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p2plib.sh"
need_cmd make cc curl sha256sum setpriv unshare nsenter mount

ROOT=$E2E_TMP/root
BLD=$E2E_TMP/build
SVC=$E2E_TMP/svc
ETC=$ROOT/etc/p2pd
UNITS=$ROOT/usr/lib/systemd/system
COMPLETION=$ROOT/usr/share/bash-completion/completions/p2pctl
CONNECTD=$ROOT/usr/sbin/connectd
P2PD=$ROOT/usr/sbin/p2pd
P2PCTL=$ROOT/usr/sbin/p2pctl
DYN_UID=61999 # in systemd's range for DynamicUser; checked unused below
FOREIGN=(usr/sbin/other-daemon usr/share/man/man8/other.8
	usr/lib/systemd/system/other.service etc/other.conf)
HAVE_SA=0
command -v systemd-analyze >/dev/null 2>&1 && HAVE_SA=1
mkdir -p "$SVC"
# the unnamed uid of rendezvousd runs programs from $ROOT
chmod 711 "$E2E_TMP"

# make ARGS...: the project's make on the scratch root, never the parent
# make's settings: make check passes its own BUILD and flags down, on the
# command line (MAKEFLAGS) and, as GNU make does for command-line variables,
# in the environment too (a sanitizer build cannot run under the units'
# restrictions).
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u EXTRA_CFLAGS -u EXTRA_LDFLAGS \
		-u CFLAGS -u LDFLAGS -u CPPFLAGS -u OPT -u BUILD make -C "$E2E_ROOT" --no-print-directory \
		BUILD="$BLD" PREFIX=/usr DESTDIR="$ROOT" SERVICES="systemd launchd" "$@" \
		>"$LOGDIR/make.out" 2>&1 || {
		diag "make $* failed:"
		tail -n 30 "$LOGDIR/make.out"
		return 1
	}
	cat "$LOGDIR/make.out" >>"$LOGDIR/make.log"
}

# The files make install puts under $ROOT, relative, sorted.
expected_files() {
	local f
	{
		printf '%s\n' etc/p2pd/p2pd.conf etc/p2pd/rendezvousd.conf \
			usr/sbin/connectd usr/sbin/p2pd usr/sbin/p2pctl usr/sbin/rendezvousd \
			usr/share/man/man5/p2pd.conf.5 usr/share/man/man5/rendezvousd.conf.5 \
			usr/share/man/man5/p2p-provisioning.5 usr/share/man/man8/connectd.8 \
			usr/share/man/man8/p2pd.8 usr/share/man/man8/p2pctl.8 \
			usr/share/man/man8/rendezvousd.8 usr/share/bash-completion/completions/p2pctl \
			usr/lib/systemd/system/p2pd.service usr/lib/systemd/system/rendezvousd.service \
			usr/lib/sysusers.d/p2pd.conf Library/LaunchDaemons/p2pd.plist \
			Library/LaunchDaemons/p2pd.rendezvousd.plist
		for f in "$E2E_ROOT"/conf.d/*.conf.example; do
			echo "etc/p2pd/conf.d/${f##*/}"
		done
	} | LC_ALL=C sort
}

files_now() {
	(cd "$ROOT" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
}

# same_files WANT: the files under $ROOT are exactly WANT (lines).
same_files() {
	local want got
	want=$(LC_ALL=C sort <<<"$1" | sed '/^$/d')
	got=$(files_now)
	if [[ $want != "$got" ]]; then
		diag "files under the root differ from what was expected (< expected, > found):"
		diff <(echo "$want") <(echo "$got") | grep '^[<>]' || true
		return 1
	fi
}

foreign_files() {
	local f
	for f in "${FOREIGN[@]}"; do
		mkdir -p "$ROOT/$(dirname "$f")"
		echo "not p2pd's: $f" >"$ROOT/$f"
	done
}

foreign_intact() {
	local f
	for f in "${FOREIGN[@]}"; do
		[[ $(cat "$ROOT/$f") == "not p2pd's: $f" ]]
	done
}

# ---------------------------------------------------------------------------
# 1. The installed files

check_modes() {
	local f
	[[ $(stat -c %a "$ETC/conf.d") == 700 ]]
	[[ $(stat -c %a "$ETC/p2pd.conf") == 644 ]]
	[[ $(stat -c %a "$ETC/rendezvousd.conf") == 600 ]]
	for f in "$ETC"/conf.d/*.example; do [[ $(stat -c %a "$f") == 600 ]]; done
	for f in connectd p2pd p2pctl rendezvousd; do
		[[ $(stat -c %a "$ROOT/usr/sbin/$f") == 755 ]]
	done
	for f in "$UNITS"/*.service "$ROOT"/usr/share/man/man*/*; do
		[[ $f == */other.* ]] || [[ $(stat -c %a "$f") == 644 ]]
	done
}

# The installed files name the installed paths; p2pd's default worker is the
# installed connectd.
check_paths() {
	local out
	if out=$(grep -rn /usr/local "$UNITS"/*.service "$ROOT/Library" "$ETC"); then
		diag "installed files still name /usr/local:" "$out"
		return 1
	fi
	grep -qx 'ExecStart=/usr/sbin/p2pd -c /etc/p2pd/p2pd.conf' "$UNITS/p2pd.service"
	grep -q '^ExecStart=/usr/sbin/rendezvousd ' "$UNITS/rendezvousd.service"
	grep -qx '#worker_binary = /usr/sbin/connectd' "$ETC/p2pd.conf"
	out=$(tr '\0' '\n' <"$P2PD")
	grep -qx /usr/sbin/connectd <<<"$out"
	! grep -qx /usr/local/sbin/connectd <<<"$out"
}

# p2pd -n with the installed p2pd.conf (conf_dir moved into the root) sees
# no provisioning file: the examples are not enabled.
check_examples_not_enabled() {
	local out rc=0
	sed "s|^conf_dir = .*|conf_dir = $ETC/conf.d|" "$ETC/p2pd.conf" >"$SVC/n.conf"
	out=$("$P2PD" -n -c "$SVC/n.conf" 2>&1) || rc=$?
	diag "p2pd -n (exit $rc):" "$out"
	((rc == 0))
	! grep -q 'example' <<<"$out"
}

check_man() {
	local p out rc=0
	for p in "$ROOT"/usr/share/man/man[58]/*.[58]; do
		[[ $p == */other.8 ]] && continue
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
		if [[ -n $out ]]; then
			diag "${p##*/}:" "$out"
			rc=1
		fi
	done
	[[ $(MANPATH=$ROOT/usr/share/man man -w 5 p2p-provisioning) == \
		"$ROOT/usr/share/man/man5/p2p-provisioning.5" ]]
	return $rc
}

# ---------------------------------------------------------------------------
# 2. The service files

# for_host UNIT: a copy of the installed unit whose programs are found in
# $ROOT, for systemd-analyze on this machine.
for_host() {
	mkdir -p "$SVC/host"
	sed "s|/usr/sbin/|$ROOT/usr/sbin/|g" "$UNITS/$1" >"$SVC/host/$1"
	echo "$SVC/host/$1"
}

check_units_say() {
	local p=$UNITS/p2pd.service r=$UNITS/rendezvousd.service
	grep -qx 'Type=notify' "$p"
	grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$p"
	grep -qx 'RuntimeDirectory=p2pd' "$p"
	grep -qx 'DynamicUser=yes' "$r"
	grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$r"
}

check_verify() {
	local out rc=0
	out=$(MANPATH=$ROOT/usr/share/man systemd-analyze verify \
		"$(for_host p2pd.service)" "$(for_host rendezvousd.service)" 2>&1) || rc=$?
	[[ -z $out ]] || diag "systemd-analyze verify:" "$out"
	((rc == 0)) && [[ -z $out ]]
}

# exposure UNIT MAX: systemd-analyze's overall exposure of UNIT is at most MAX.
exposure() {
	local f out
	f=$(for_host "$1")
	out=$(systemd-analyze security --offline=yes "$f" 2>&1 | grep 'Overall exposure') || true
	diag "$1: ${out#*: }"
	systemd-analyze security --offline=yes --threshold="${2/./}" "$f" >/dev/null 2>&1
}

check_sysusers() {
	local r=$SVC/sysroot pw gw gc
	mkdir -p "$r/etc"
	cp /etc/passwd /etc/group "$r/etc/"
	: >"$r/etc/shadow"
	: >"$r/etc/gshadow"
	systemd-sysusers --root="$r" "$ROOT/usr/lib/sysusers.d/p2pd.conf"
	pw=$(grep '^p2pd:' "$r/etc/passwd")
	gw=$(awk -F: '$1 == "p2pd-worker" { print $3 }' "$r/etc/group")
	gc=$(awk -F: '$1 == "p2pd" { print $3 }' "$r/etc/group")
	diag "user: $pw; group p2pd-worker: $gw; group p2pd: $gc"
	[[ -n $gw && -n $gc && $gw != "$gc" ]]
	IFS=: read -r _ _ uid gid _ <<<"$pw"
	((uid != 0)) && [[ $gid == "$gw" ]]
}

check_plists() {
	"$E2E_PYTHON" - "$ROOT" <<'EOF'
import os, plistlib, sys
root = sys.argv[1]
want = {
    "p2pd.plist": ("p2pd", "/usr/sbin/p2pd", "/etc/p2pd/p2pd.conf"),
    "p2pd.rendezvousd.plist": ("p2pd.rendezvousd", "/usr/sbin/rendezvousd", "/etc/p2pd/rendezvousd.conf"),
}
for name, (label, prog, conf) in want.items():
    path = os.path.join(root, "Library/LaunchDaemons", name)
    with open(path, "rb") as f:
        d = plistlib.load(f)
    assert d["Label"] == label, (name, d["Label"])
    assert d["ProgramArguments"] == [prog, "-c", conf], (name, d["ProgramArguments"])
    assert os.access(root + prog, os.X_OK), prog
    assert os.path.isfile(root + conf), conf
    assert d["RunAtLoad"] is True, name
    assert d["KeepAlive"] == {"SuccessfulExit": False}, (name, d["KeepAlive"])
    for k in ("StandardOutPath", "StandardErrorPath"):
        assert d[k].startswith("/var/log/"), (name, k, d[k])
    with open(path) as f:
        assert "launchctl kill SIGHUP system/" + label in f.read(), name + ": no reload note"
    print(name, "ok:", d["Label"], d["ProgramArguments"])
EOF
}

# ---------------------------------------------------------------------------
# 3. The services, as their units run them (without systemd)

# sc_expand NAME...: the system calls of filter sets (@name) and single names.
sc_expand() {
	local n x
	for n in "$@"; do
		if [[ $n == @* ]]; then
			while read -r x; do
				sc_expand "$x"
			done < <(systemd-analyze syscall-filter "$n" 2>/dev/null |
				awk 'NR > 1 && NF && $1 !~ /^#/ { print $1 }')
		else
			echo "$n"
		fi
	done
}

# cap_mask CAP_NAME...: the capability mask, as /proc/PID/status shows it.
cap_mask() {
	local m=0 c n
	for c in "$@"; do
		n=$(awk -v c="$c" '$1 == "#define" && $2 == c { print $3 }' /usr/include/linux/capability.h)
		m=$((m | (1 << n)))
	done
	printf '%016x\n' "$m"
}

# svc_prepare UNIT NAME ETCDIR: what svc.sh needs of UNIT, in $SVC/NAME.env.
svc_prepare() {
	local unit=$UNITS/$1 name=$2 etc=$3 v caps="-all" fams="-" mdwe=0 dyn="" calls=""
	local -a allow=() deny=()
	for v in $(sed -n 's/^CapabilityBoundingSet=//p' "$unit"); do
		v=${v#CAP_}
		caps+=",+${v,,}"
	done
	v=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
	if [[ -n $v ]]; then
		fams=$("$E2E_PYTHON" -c 'import socket, sys
print(",".join(str(int(getattr(socket, f))) for f in sys.argv[1:]))' $v)
	fi
	grep -qx 'MemoryDenyWriteExecute=yes' "$unit" && mdwe=1
	grep -qx 'DynamicUser=yes' "$unit" && dyn=$DYN_UID
	if ((HAVE_SA)); then
		while read -r v; do
			if [[ $v == "~"* ]]; then
				read -r -a x <<<"${v#\~}"
				deny+=("${x[@]}")
			else
				read -r -a x <<<"$v"
				allow+=("${x[@]}")
			fi
		done < <(sed -n 's/^SystemCallFilter=//p' "$unit")
		calls=$SVC/$name.calls
		comm -23 <(sc_expand "${allow[@]}" | sort -u) <(sc_expand "${deny[@]}" | sort -u) >"$calls"
		grep -qx execve "$calls"
	fi
	{
		printf 'UNIT=%q\nETC=%q\nROOT=%q\nE2E_TMP=%q\n' "$unit" "$etc" "$ROOT" "$E2E_TMP"
		printf 'CAPS=%q\nFAMILIES=%q\nMDWE=%q\nDYNUID=%q\nCALLS=%q\n' "$caps" "$fams" "$mdwe" "$dyn" "$calls"
		printf 'SVCFILTER=%q\n' "$SVC/svcfilter"
		printf 'RTDIRS=%q\n' "$(sed -n 's/^RuntimeDirectory=//p' "$unit")"
		printf 'RTMODE=%q\n' "$(sed -n 's/^RuntimeDirectoryMode=//p' "$unit")"
		printf 'UMASK=%q\n' "$(sed -n 's/^UMask=//p' "$unit")"
	} >"$SVC/$name.env"
}

write_svc_tools() {
	cat >"$SVC/svcfilter.c" <<'EOF'
/* svcfilter ALLOWFILE FAMILIES MDWE PROG [ARG...]: one seccomp filter made of
 * what systemd makes of SystemCallFilter= (the calls named in ALLOWFILE; any
 * other fails with EPERM, as with SystemCallErrorNumber=EPERM),
 * RestrictAddressFamilies= (socket() only for FAMILIES, numbers separated by
 * commas, or "-" for any) and MemoryDenyWriteExecute= (MDWE 1: no mapping
 * both writable and executable, no mprotect to executable); then exec PROG.
 * Needs no_new_privs (setpriv --no-new-privs). */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

static scmp_filter_ctx ctx;

static void
die(const char *what, int rc)
{
	fprintf(stderr, "svcfilter: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	exit(1);
}

static void
allow(int nr, unsigned n, const struct scmp_arg_cmp *cmp)
{
	int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);

	if (rc < 0)
		die("seccomp_rule_add", rc);
}

static void
allow_memory(int nr)
{
	static const unsigned long ok[] = {0, PROT_WRITE, PROT_EXEC};
	struct scmp_arg_cmp c;

	if (nr == SCMP_SYS(mmap)) {
		for (int i = 0; i < 3; i++) {
			c = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, ok[i]);
			allow(nr, 1, &c);
		}
		return;
	}
	c = SCMP_A2(SCMP_CMP_MASKED_EQ, nr == SCMP_SYS(shmat) ? SHM_EXEC : PROT_EXEC, 0);
	allow(nr, 1, &c);
}

int
main(int argc, char **argv)
{
	char line[128], *fam, *save = NULL;
	int mdwe, rc, nr, anyfam;
	FILE *f;

	if (argc < 5) {
		fprintf(stderr, "usage: svcfilter ALLOWFILE FAMILIES MDWE PROG [ARG...]\n");
		return 64;
	}
	mdwe = strcmp(argv[3], "1") == 0;
	anyfam = strcmp(argv[2], "-") == 0;
	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL)
		die("seccomp_init", ENOMEM);
	if ((f = fopen(argv[1], "r")) == NULL)
		die(argv[1], errno);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((nr = seccomp_syscall_resolve_name(line)) < 0)
			continue; /* not a call of this architecture */
		if (nr == SCMP_SYS(socket) && !anyfam)
			continue;
		if (mdwe && (nr == SCMP_SYS(mmap) || nr == SCMP_SYS(mprotect) ||
			     nr == SCMP_SYS(pkey_mprotect) || nr == SCMP_SYS(shmat)))
			allow_memory(nr);
		else
			allow(nr, 0, NULL);
	}
	fclose(f);
	for (fam = anyfam ? NULL : strtok_r(argv[2], ",", &save); fam != NULL;
	     fam = strtok_r(NULL, ",", &save)) {
		struct scmp_arg_cmp c = {
		    .arg = 0, .op = SCMP_CMP_EQ, .datum_a = strtoul(fam, NULL, 10), .datum_b = 0};
		allow(SCMP_SYS(socket), 1, &c);
	}
	if ((rc = seccomp_load(ctx)) < 0)
		die("seccomp_load", rc);
	execvp(argv[4], argv + 4);
	die(argv[4], errno);
	return 1;
}
EOF
	cc -O1 -Wall -Wextra -o "$SVC/svcfilter" "$SVC/svcfilter.c" -lseccomp

	cat >"$SVC/svc.sh" <<'EOF'
#!/usr/bin/env bash
# svc.sh start ENV: in a new mount namespace (unshare --mount), build the
# unit's file system view, run its ExecStartPre= lines and exec its ExecStart=
# as systemd would (see t_install.sh).
# svc.sh reload ENV MAINPID: in the service's mount namespace (nsenter -m),
# run its ExecReload= lines.
set -euo pipefail
mode=$1
. "$2"
MAINPID=${3:-}

lines() { sed -n "s/^$1=//p" "$UNIT"; }
map() { sed -e "s|/usr/sbin/|$ROOT/usr/sbin/|g" -e "s|/etc/p2pd|$ETC|g"; }

# sandboxed CMD...: run CMD with the unit's user, capabilities and filter.
sandboxed() {
	local -a who=() filt=()
	if [[ -n $DYNUID ]]; then who=(--reuid="$DYNUID" --regid="$DYNUID" --clear-groups); fi
	if [[ -n $CALLS ]]; then filt=("$SVCFILTER" "$CALLS" "$FAMILIES" "$MDWE"); fi
	setpriv --no-new-privs --bounding-set "$CAPS" "${who[@]}" -- "${filt[@]}" "$@"
}

# line_argv LINE: sets priv (1 for a "+" line) and argv, with systemd's quoting.
line_argv() {
	local l=$1
	priv=0
	if [[ $l == "+"* ]]; then
		priv=1
		l=${l#+}
	fi
	l=$(map <<<"$l")
	eval "argv=($l)"
}

run_line() {
	local priv
	local -a argv
	line_argv "$1"
	if ((priv)); then "${argv[@]}"; else sandboxed "${argv[@]}"; fi
}

mounts() {
	local d n
	# PrivateTmp=yes; this run's own files stay visible, read-only.
	cd "$E2E_TMP"
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
	if [[ $E2E_TMP == /tmp/* ]]; then
		mkdir -p "$E2E_TMP"
		mount --no-canonicalize --bind . "$E2E_TMP"
	fi
	mount -o remount,bind,ro "$E2E_TMP"
	# PrivateDevices=yes
	cd /dev
	mount -t tmpfs -o mode=755,nosuid,noexec tmpfs /dev
	for n in null zero full random urandom tty; do
		touch "/dev/$n"
		mount --no-canonicalize --bind "./$n" "/dev/$n"
	done
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	mkdir /dev/shm
	mount -t tmpfs -o mode=1777,nosuid,nodev,noexec tmpfs /dev/shm
	cd /
	# ProtectHome=yes
	for d in /home /root; do
		if [[ -d $d ]]; then mount -t tmpfs -o ro,mode=755 tmpfs "$d"; fi
	done
	# RuntimeDirectory= in a read-only /run
	mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
	for d in $RTDIRS; do
		mkdir "/run/$d"
		chmod "${RTMODE:-0755}" "/run/$d"
		if [[ -n $DYNUID ]]; then chown "$DYNUID:$DYNUID" "/run/$d"; fi
		mount --bind "/run/$d" "/run/$d"
	done
	mount -o remount,bind,ro /run
	# ProtectSystem=strict
	mount -o remount,bind,ro /
	# ProtectProc=invisible, ProcSubset=pid
	mount -t proc -o nosuid,nodev,noexec,hidepid=invisible,subset=pid proc /proc
}

case $mode in
start)
	mounts
	while IFS= read -r l; do run_line "$l"; done < <(lines ExecStartPre)
	line_argv "$(lines ExecStart)"
	((priv == 0)) || { echo "svc.sh: a + ExecStart is not emulated" >&2; exit 1; }
	if [[ -n $DYNUID ]]; then who=(--reuid="$DYNUID" --regid="$DYNUID" --clear-groups); else who=(); fi
	if [[ -n $CALLS ]]; then filt=("$SVCFILTER" "$CALLS" "$FAMILIES" "$MDWE"); else filt=(); fi
	umask "${UMASK:-0022}"
	exec setpriv --no-new-privs --bounding-set "$CAPS" "${who[@]}" -- "${filt[@]}" "${argv[@]}"
	;;
reload)
	while IFS= read -r l; do run_line "$l"; done < <(lines ExecReload)
	;;
*)
	echo "usage: svc.sh start ENV | reload ENV MAINPID" >&2
	exit 64
	;;
esac
EOF
}

# svc_start UNIT NAME NS ETCDIR [ENV=VALUE...]: start UNIT's service as NAME.
svc_start() {
	local unit=$1 name=$2 ns=$3 etc=$4
	shift 4
	svc_prepare "$unit" "$name" "$etc"
	spawn "$ns" "$name" env "$@" unshare --mount --propagation private \
		bash "$SVC/svc.sh" start "$SVC/$name.env"
}

# svc_reload NAME: the unit's ExecReload= lines, in its mount namespace.
svc_reload() {
	local pid
	pid=$(pid_of "$1")
	nsenter -t "$pid" -m -- bash "$SVC/svc.sh" reload "$SVC/$1.env" "$pid"
}

# ctl NAME ARGS...: the installed p2pctl, where the p2pd NAME runs (its
# /run/p2pd/control.sock exists only in its mount namespace).
ctl() {
	local name=$1
	shift
	nsenter -t "$(pid_of "$name")" -m -- "$P2PCTL" "$@"
}

# field NAME UID KEY: one field of a worker from p2pctl status --json.
field() {
	local out
	out=$(ctl "$1" status --json "$2" 2>/dev/null) || true
	"$E2E_PYTHON" -c 'import json, sys
try:
    v = json.loads(sys.stdin.read())["workers"][0].get(sys.argv[1])
except Exception:
    sys.exit(1)
print("" if v is None else v)' "$3" <<<"$out"
}

field_is() { [[ $(field "$1" "$2" "$3") == "$4" ]]; }
count_ge() { (($(grep -c -- "$2" "$3") >= $1)); }

status_of() { # status_of PID KEY: a field of /proc/PID/status
	awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"
}

# conf_set FILE KEY VALUE: set KEY in an INI file (its commented default too).
conf_set() {
	if grep -Eq "^#?$2 =" "$1"; then
		sed -i -E "s|^#?$2 =.*|$2 = $3|" "$1"
	else
		echo "$2 = $3" >>"$1"
	fi
}

notify_listener() { # notify_listener NS NAME: print each sd_notify datagram
	spawn "$1" "$2" "$E2E_PYTHON" -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
print("listening", flush=True)
while True:
    print(s.recv(4096).decode().replace("\n", " | "), flush=True)' "$RUNID-notify"
	wait_log "$2" listening 5
}

p2pd_side() { # p2pd_side ETCDIR: p2pd.conf of one side
	local c=$1/p2pd.conf
	conf_set "$c" conf_dir "$1/conf.d"
	conf_set "$c" worker_user nobody
	conf_set "$c" worker_binary "$CONNECTD"
	conf_set "$c" server "$IP_RDV:5959"
	conf_set "$c" restart_min 1
}

check_rdv_sandboxed() {
	local p
	p=$(pid_of rdv)
	diag "rendezvousd: $(grep -E '^(Uid|Gid|Groups|CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$p/status" | tr -s '\t\n' '  ')"
	[[ $(status_of "$p" Uid) == "$DYN_UID $DYN_UID $DYN_UID $DYN_UID" ]]
	[[ $(status_of "$p" CapEff) == 0000000000000000 ]]
	[[ $(status_of "$p" CapBnd) == 0000000000000000 ]]
	[[ $(status_of "$p" NoNewPrivs) == 1 ]]
	((HAVE_SA == 0)) || [[ $(status_of "$p" Seccomp) == 2 ]]
	[[ $(readlink "/proc/$p/ns/mnt") != "$(readlink /proc/self/ns/mnt)" ]]
	# it reads the copy the unit made, owned by it, mode 600
	[[ $(nsenter -t "$p" -m -- stat -c '%u %a' /run/rendezvousd/rendezvousd.conf) == "$DYN_UID 600" ]]
}

# check_p2pd_sandboxed NAME: p2pd NAME runs as root with the unit's bounding
# set, no_new_privs and a filter; its worker as nobody under its own filter too.
check_p2pd_sandboxed() {
	local p w want nobody
	p=$(pid_of "$1")
	# shellcheck disable=SC2046
	want=$(cap_mask $(sed -n 's/^CapabilityBoundingSet=//p' "$UNITS/p2pd.service"))
	diag "$1: $(grep -E '^(Uid|CapBnd|NoNewPrivs|Seccomp|Seccomp_filters):' "/proc/$p/status" | tr -s '\t\n' '  ')"
	[[ $(status_of "$p" Uid) == "0 0 0 0" ]]
	[[ $(status_of "$p" CapBnd) == "$want" ]]
	[[ $(status_of "$p" NoNewPrivs) == 1 ]]
	((HAVE_SA == 0)) || [[ $(status_of "$p" Seccomp) == 2 ]]
	w=$(ps -o pid= --ppid "$p" | tr -d ' ')
	[[ $w =~ ^[0-9]+$ ]]
	diag "$1's worker: $(grep -E '^(Name|Uid|CapEff|NoNewPrivs|Seccomp|Seccomp_filters):' "/proc/$w/status" | tr -s '\t\n' '  ')"
	nobody=$(id -u nobody)
	[[ $(status_of "$w" Uid) == "$nobody $nobody $nobody $nobody" ]]
	[[ $(status_of "$w" CapEff) == 0000000000000000 ]]
	[[ $(status_of "$w" Seccomp) == 2 ]]
	((HAVE_SA == 0)) || (($(status_of "$w" Seccomp_filters) >= 2))
}

check_status() { # check_status NAME MODE: one worker, up, exit 0; socket 0660
	local out rc=0
	[[ $(nsenter -t "$(pid_of "$1")" -m -- stat -c %a /run/p2pd/control.sock) == 660 ]]
	out=$(ctl "$1" status) || rc=$?
	diag "p2pctl status ($1, exit $rc):" "$out"
	((rc == 0))
	[[ $(grep -c '^80:' <<<"$out") == 1 ]]
	grep -q "^$P2P_UID .* $2 .*up" <<<"$out"
}

# complete NAME LINE: the completions bash would offer for LINE (ending at
# the cursor), space-separated, where p2pd NAME runs.
complete_line() {
	nsenter -t "$(pid_of "$1")" -m -- bash -c '. "$1"
COMP_LINE=$2 COMP_POINT=${#2}
_p2pctl
echo "${COMPREPLY[*]}"' - "$COMPLETION" "$2"
}

check_completion() {
	local got
	got=$(complete_line p2pdi "$P2PCTL st")
	[[ $got == "status start" ]] || { diag "st: '$got'"; return 1; }
	got=$(complete_line p2pdi "$P2PCTL status ")
	[[ $got == "--json $P2P_UID" ]] || { diag "status: '$got'"; return 1; }
	# bash completes a UID after its last ':', as COMP_WORDBREAKS says
	got=$(complete_line p2pdi "$P2PCTL kill ${P2P_UID%??}")
	[[ $got == "${P2P_UID##*:}" ]] || { diag "kill: '$got'"; return 1; }
	got=$(complete_line p2pdi "$P2PCTL kill $P2P_UID ")
	[[ -z $got ]] || { diag "kill UID: '$got'"; return 1; }
}

check_p2pd_reload() {
	local w
	w=$(field p2pdi "$P2P_UID" pid)
	svc_reload p2pdi
	wait_log nti 'RELOADING=1' 5
	wait_for 5 count_ge 2 'READY=1' "$(log_of nti)"
	field_is p2pdi "$P2P_UID" pid "$w"
}

check_rdv_reload() {
	local uid secret
	read -r uid secret <<<"$(p2p_device 2)"
	printf '\n[device %s]\nsecret = %s\n' "$uid" "$secret" >>"$ETC/rendezvousd.conf"
	svc_reload rdv
	wait_log rdv 'configuration reloaded: 1 users, 2 devices' 5
}

check_stop() { # check_stop NAME: SIGTERM to the main process (KillMode=mixed)
	local w
	w=$(ps -o pid= --ppid "$(pid_of "$1")" | tr -d ' ') || true # none for rendezvousd
	kill_proc "$1" TERM
	expect_exit "$1" 0 15
	[[ -z $w ]] || ! kill -0 "$w" 2>/dev/null
}

tunnel() {
	local tetc=$E2E_TMP/tgt-etc
	topo_two_nats masq masq
	p2p_accounts
	if getent passwd "$DYN_UID" >/dev/null; then
		diag "uid $DYN_UID has a passwd entry; the DynamicUser checks need it unused"
		return 1
	fi
	# rendezvousd: the installed configuration, with one user and one device
	{
		echo "[server]"
		echo "listen = $IP_RDV:5959"
		echo "alt_address = $IP_RDV_ALT"
		echo "[user $P2P_USER]"
		echo "auth_hash = $P2P_HASH"
		echo "allow = $P2P_UID $P2P_UID2"
		echo "[device $P2P_UID]"
		echo "secret = $P2P_SECRET"
	} >>"$ETC/rendezvousd.conf"
	svc_start rendezvousd.service rdv "$NS_RDV" "$ETC"
	wait_log rdv 'listening on TCP' 10
	check "rendezvousd runs as an unnamed uid, no capabilities, filtered" check_rdv_sandboxed

	# the target's host has its own /etc/p2pd; the initiator's is the installed one
	cp -a "$ETC" "$tetc"
	rm -f "$tetc/rendezvousd.conf"
	p2pd_side "$tetc"
	p2p_target_conf "$tetc/conf.d/web.conf" "autoconnect 2"
	p2pd_side "$ETC"
	p2p_initiator_conf "$ETC/conf.d/web.conf" "autoconnect 2" "encryption 3"
	mkdir -p "$E2E_TMP/www"
	p2p_blob "$E2E_TMP/www/blob" 2000000
	p2p_web "$NS_TGT" web 127.0.0.1 8080 "$E2E_TMP/www"

	notify_listener "$NS_TGT" ntt
	notify_listener "$NS_INI" nti
	svc_start p2pd.service p2pdt "$NS_TGT" "$tetc" NOTIFY_SOCKET="@$RUNID-notify"
	wait_log ntt 'READY=1' 10
	wait_for 10 field_is p2pdt "$P2P_UID" detail registered
	svc_start p2pd.service p2pdi "$NS_INI" "$ETC" NOTIFY_SOCKET="@$RUNID-notify"
	wait_log nti 'READY=1' 10
	check "the initiator under p2pd connects" wait_for 20 field_is p2pdi "$P2P_UID" detail connected
	check "curl through the tunnel gets the file intact" p2p_fetch_sha 33000 "$E2E_TMP/www/blob" 30
	# 2 candidates: public and local, so getifaddrs (netlink) works in the unit
	check "the initiator's worker was handed the target's 2 candidates" \
		grep -q "introduced to $P2P_UID (2 candidates)" "$(log_of p2pdi)"
	check "the target's worker was handed the initiator's 2 candidates" \
		grep -q "introduced to $P2P_USER (2 candidates)" "$(log_of p2pdt)"
	check "p2pctl status (default socket, mode 0660): the target's p2pd runs one worker, up" \
		check_status p2pdt target
	check "p2pctl status (default socket, mode 0660): the initiator's p2pd runs one worker, up" \
		check_status p2pdi initiator
	check "the target's p2pd and its worker are sandboxed as the unit says" \
		check_p2pd_sandboxed p2pdt
	check "the initiator's p2pd and its worker are sandboxed as the unit says" \
		check_p2pd_sandboxed p2pdi
	check "bash completion: commands, --json, UIDs from p2pctl status --json" check_completion
	check "p2pd.service ExecReload: RELOADING=1, READY=1, the worker untouched" check_p2pd_reload
	check "rendezvousd.service ExecReload: the unit copies the file again, SIGHUP reads it" \
		check_rdv_reload
	check "a second transfer after the reloads" p2p_fetch_sha 33000 "$E2E_TMP/www/blob" 30
	check "stop (SIGTERM to p2pd): exit 0, its worker gone (initiator)" check_stop p2pdi
	check "stop (SIGTERM to p2pd): exit 0, its worker gone (target)" check_stop p2pdt
	check "stop rendezvousd: exit 0" check_stop rdv
}

# ---------------------------------------------------------------------------
# 4. Uninstall

check_uninstall_keeps_changes() {
	local before after
	before=$(cd "$ETC" && sha256sum p2pd.conf rendezvousd.conf conf.d/web.conf)
	mk uninstall
	grep -q "p2pd.conf was changed: kept" "$LOGDIR/make.out"
	grep -q "rendezvousd.conf was changed: kept" "$LOGDIR/make.out"
	same_files "$(printf '%s\n' "${FOREIGN[@]}" etc/p2pd/p2pd.conf \
		etc/p2pd/rendezvousd.conf etc/p2pd/conf.d/web.conf)"
	after=$(cd "$ETC" && sha256sum p2pd.conf rendezvousd.conf conf.d/web.conf)
	[[ $before == "$after" ]]
	foreign_intact
}

check_reinstall_uninstall() {
	rm -rf "$ETC"
	mk install
	same_files "$(expected_files; printf '%s\n' "${FOREIGN[@]}")"
	echo "# mine" >>"$ETC/p2pd.conf"
	mk install
	grep -q "p2pd.conf exists: kept" "$LOGDIR/make.out"
	grep -qx "# mine" "$ETC/p2pd.conf"
	sed -i '/^# mine$/d' "$ETC/p2pd.conf"
	same_files "$(expected_files; printf '%s\n' "${FOREIGN[@]}")"
	mk uninstall
	same_files "$(printf '%s\n' "${FOREIGN[@]}")"
	[[ ! -e $ETC ]]
	foreign_intact
}

# ---------------------------------------------------------------------------

foreign_files
require "make install DESTDIR=... PREFIX=/usr builds and installs" mk -j"$(nproc)" install
check "make install installs exactly the expected files" \
	same_files "$(expected_files; printf '%s\n' "${FOREIGN[@]}")"
check "installed files have the expected modes" check_modes
check "installed files name the installed paths; worker_binary is /usr/sbin/connectd" check_paths
check "the installed conf.d examples are not provisioning files p2pd reads" \
	check_examples_not_enabled
if command -v man >/dev/null 2>&1; then
	check "installed man pages format without warnings and are found by name" check_man
else
	skip "installed man pages format without warnings" "man is not installed"
fi
check "p2pd.service: Type=notify, ExecReload SIGHUP, RuntimeDirectory; rendezvousd.service: DynamicUser" \
	check_units_say
if ((HAVE_SA)); then
	check "systemd-analyze verify: the installed units are clean" check_verify
	check "p2pd.service: exposure at most 2.6" exposure p2pd.service 2.6
	check "rendezvousd.service: exposure at most 2.0" exposure rendezvousd.service 2.0
else
	skip "systemd-analyze verify and security of the installed units" \
		"systemd-analyze is not installed (apt-get install systemd)"
fi
if command -v systemd-sysusers >/dev/null 2>&1; then
	check "sysusers.d/p2pd.conf makes user p2pd (group p2pd-worker) and group p2pd" check_sysusers
else
	skip "sysusers.d/p2pd.conf" "systemd-sysusers is not installed (apt-get install systemd)"
fi
check "launchd property lists parse and name the installed programs" check_plists
write_svc_tools
if ((HAVE_SA == 0)); then
	skip "the units' system-call filters" "systemd-analyze is not installed: services run without them"
fi
scenario "installed tree, services as their units run them" tunnel
check "make uninstall keeps changed configuration, added files and foreign files, nothing else" \
	check_uninstall_keeps_changes
check "install, install again (configuration kept), uninstall: only foreign files remain" \
	check_reinstall_uninstall
