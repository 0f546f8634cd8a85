#!/bin/sh
# Runs every unit test program, then the end-to-end scenarios, and prints one
# closing line "tests: N passed, N failed[, N skipped]". Exit 0 only if none failed.
set -u
BUILD=${BUILD:-build}
pass=0
fail=0
skip=0
failed_names=""
out=$(mktemp)
# Sanitizer builds (make check) write their reports here, one file per
# process that found something; any file at the end is a failure.
sanlog=$(mktemp -d)
trap 'rm -f "$out"; rm -rf "$sanlog"' EXIT
export ASAN_OPTIONS="log_path=$sanlog/asan:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="log_path=$sanlog/ubsan:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	case $t in *.d) continue ;; esac
	name=$(basename "$t")
	"$t" >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	k=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	k=${k:-0}
	skip=$((skip + k))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed, or failed before cmocka could count
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$f" -ne 0 ]; then
		cat "$out"
		failed_names="$failed_names $name"
		echo "FAIL $name ($p passed, $f failed, exit $rc)"
	elif [ "$k" -gt 0 ]; then
		echo "ok   $name ($p passed, $k skipped: $(sed -n 's/^\[  SKIPPED \] \(test_.*\)/\1/p' "$out" | sort -u | tr '\n' ' ' | sed 's/ $//'))"
	else
		echo "ok   $name ($p passed)"
	fi
done

if [ "${SKIP_E2E:-0}" = 1 ]; then
	echo "== end-to-end tests: not run (SKIP_E2E=1)"
elif [ -f tests/e2e/run.sh ]; then
	echo "== end-to-end tests"
	BUILD=$BUILD bash tests/e2e/run.sh >"$out.e2e" 2>&1
	rc=$?
	cat "$out.e2e"
	p=$(grep -c '^ok ' "$out.e2e")
	f=$(grep -c '^not ok ' "$out.e2e")
	s=$(grep -c '^skip ' "$out.e2e")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - tests/e2e/run.sh exited $rc"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
	[ "$f" -ne 0 ] && failed_names="$failed_names e2e"
	rm -f "$out.e2e"
fi

if [ -n "$(ls "$sanlog" 2>/dev/null)" ]; then
	echo "== sanitizer reports"
	for f in "$sanlog"/*; do
		echo "--- $f"
		head -n 40 "$f"
	done
	fail=$((fail + 1))
	failed_names="$failed_names sanitizers"
fi

echo
[ -n "$failed_names" ] && echo "failed:$failed_names"
if [ "$skip" -gt 0 ]; then
	echo "tests: $pass passed, $fail failed, $skip skipped"
else
	echo "tests: $pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
