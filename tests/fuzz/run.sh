#!/bin/sh
# Builds each libFuzzer harness and runs it for a bounded time.
#
#   BUILD=build-fuzz FUZZ_SECS=20 sh tests/fuzz/run.sh [tests/fuzz/fuzz_X.c ...]
#
# `make fuzz` first builds $BUILD/lib/libcommon.a with -fsanitize=fuzzer-no-link,
# then calls this script with every tests/fuzz/fuzz_*.c. For each harness X:
#   - compile it with clang -fsanitize=fuzzer,address,undefined against the
#     archives in $BUILD/lib into $BUILD/fuzz/fuzz_X;
#   - seed tests/fuzz/corpus-X/ (gitignored) from the harness's own
#     "FUZZ-SEED: <hex>" comment lines;
#   - run it for FUZZ_SECS seconds over that corpus (which keeps what it finds).
# Exits 0 only if every harness built and ran without a finding; a crashing
# input is left in $BUILD/fuzz/X-crash-* (rerun: $BUILD/fuzz/fuzz_X FILE).
set -u

BUILD=${BUILD:-build-fuzz}
FUZZ_SECS=${FUZZ_SECS:-20}
FUZZ_CC=${FUZZ_CC:-clang}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
outdir=$BUILD/fuzz

die() {
	echo "fuzz: $*" >&2
	exit 2
}

case $FUZZ_SECS in
'' | *[!0-9]*) die "FUZZ_SECS must be a whole number of seconds, not '$FUZZ_SECS'" ;;
esac
[ "$FUZZ_SECS" -gt 0 ] || die "FUZZ_SECS must be at least 1"
command -v "$FUZZ_CC" >/dev/null 2>&1 ||
	die "$FUZZ_CC not found; libFuzzer needs clang (apt-get install clang)"
[ -f "$BUILD/lib/libcommon.a" ] ||
	die "$BUILD/lib/libcommon.a is missing; run 'make fuzz', which builds it"

if [ $# -eq 0 ]; then
	set -- tests/fuzz/fuzz_*.c
	[ -f "$1" ] || die "no harness given and none found in tests/fuzz/"
fi
mkdir -p "$outdir" || die "cannot create $outdir"

# Archives in link order (users before common), only those that exist.
archives=""
for a in libworker libsuper librdv libcommon; do
	[ -f "$BUILD/lib/$a.a" ] && archives="$archives $BUILD/lib/$a.a"
done
pkgs="libsodium inih"
extra_libs=""
if [ "$archives" != " $BUILD/lib/libcommon.a" ]; then
	extra_libs="-lev"
	[ "$(uname -s)" = Linux ] && pkgs="$pkgs libseccomp"
fi
# shellcheck disable=SC2086 # $pkgs is a list
pkg_cflags=$($PKG_CONFIG --cflags $pkgs 2>/dev/null) || die "pkg-config cannot find: $pkgs"
# shellcheck disable=SC2086
pkg_libs=$($PKG_CONFIG --libs $pkgs 2>/dev/null) || die "pkg-config cannot find: $pkgs"

CFLAGS_FUZZ="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-fno-omit-frame-pointer -std=c11 -Wall -Wextra -Werror -Wshadow
	-Wstrict-prototypes -Wmissing-prototypes -I. -D_POSIX_C_SOURCE=200809L
	-D_DEFAULT_SOURCE"

# Is the libFuzzer runtime there? Name the package that ships it if not.
check_runtime() {
	probe=$outdir/.probe
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
		>"$probe.c"
	if ! "$FUZZ_CC" -fsanitize=fuzzer -o "$probe" "$probe.c" >"$probe.log" 2>&1; then
		major=$("$FUZZ_CC" -dumpversion 2>/dev/null | cut -d. -f1)
		cat "$probe.log" >&2
		die "$FUZZ_CC cannot link libFuzzer; on Debian/Ubuntu install its runtime:" \
			"apt-get install libclang-rt-${major:-N}-dev (libclang-common-${major:-N}-dev on older releases)"
	fi
	rm -f "$probe" "$probe.c" "$probe.log"
}

# Write each "FUZZ-SEED: <hex>" line of $1 as a file into directory $2.
seed_corpus() {
	i=0
	sed -n 's/.*FUZZ-SEED:[[:space:]]*\([0-9A-Fa-f]*\)[[:space:]]*$/\1/p' "$1" |
		while read -r hex; do
			i=$((i + 1))
			[ -f "$2/seed-$i" ] && continue
			if [ $((${#hex} % 2)) -ne 0 ]; then
				echo "fuzz: $1: FUZZ-SEED $i has an odd number of hex digits; skipped" >&2
				continue
			fi
			# Hex pairs to \ooo escapes that the shell's printf turns into bytes.
			esc=$(printf '%s' "$hex" | awk '{
				d = "0123456789abcdef"; s = tolower($0)
				for (k = 1; k < length(s); k += 2)
					printf "\\%03o", (index(d, substr(s, k, 1)) - 1) * 16 + index(d, substr(s, k + 1, 1)) - 1
			}')
			# shellcheck disable=SC2059 # the escapes are the point
			printf "$esc" >"$2/seed-$i"
		done
}

# Build and run one harness; returns non-zero on any failure.
run_one() {
	src=$1
	name=$(basename "$src" .c)
	x=${name#fuzz_}
	bin=$outdir/$name
	log=$outdir/$name.log
	corpus=tests/fuzz/corpus-$x

	# shellcheck disable=SC2086 # flag and library lists split on purpose
	if ! $FUZZ_CC $CFLAGS_FUZZ $pkg_cflags -o "$bin" "$src" $archives $pkg_libs $extra_libs -lm \
		>"$log" 2>&1; then
		cat "$log"
		echo "FAIL $name: does not build"
		return 1
	fi
	mkdir -p "$corpus"
	seed_corpus "$src" "$corpus"
	"$bin" -max_total_time="$FUZZ_SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$outdir/$x-" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	files=$(find "$corpus" -type f | wc -l | tr -d ' ')
	if [ "$rc" -ne 0 ]; then
		tail -n 60 "$log"
		echo "FAIL $name: exit $rc after ${runs:-?} runs; full log $log; input in $outdir/$x-*"
		return 1
	fi
	echo "ok   $name: ${runs:-?} runs in ${FUZZ_SECS}s, corpus $files files"
	return 0
}

check_runtime
total=0
failed=0
failed_names=""
for src in "$@"; do
	[ -f "$src" ] || die "no such harness: $src"
	total=$((total + 1))
	if ! run_one "$src"; then
		failed=$((failed + 1))
		failed_names="$failed_names $(basename "$src" .c)"
	fi
done
echo "fuzz: $total harnesses, $failed failed${failed_names:+ (}${failed_names# }${failed_names:+)}"
[ "$failed" -eq 0 ]
