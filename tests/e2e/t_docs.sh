#!/usr/bin/env bash
# The manual pages: they format without warnings, and connectd(8) describes
# every option connectd -h lists (and the other way round).
. "$(dirname "$0")/lib.sh"
need_bin connectd
need_cmd man

# shellcheck disable=SC2069 # keep stderr (the warnings), drop stdout
warn() { LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null; }
for page in "$E2E_ROOT"/docs/man/*.[1-8]; do
	out=$(warn "$page")
	check_eq "$(basename "$page") formats without warnings" "" "$out"
done

opts_of_help() {
	"$CONNECTD" -h | grep -oE '(^|[ [|])--?[a-z][a-z-]*' | sed 's/^[ [|]//' | sort -u
}
opts_of_man() { # mdoc "Fl x" renders as -x, "Fl \-x" as --x
	grep -oE '^\.(It|Op|Fl) .*' "$E2E_ROOT/docs/man/connectd.8" |
		grep -oE 'Fl (\\-)?[a-z][a-z\\-]*' | sed -e 's/^Fl /-/' -e 's/\\//g' |
		awk '/^-[a-z][a-z]+$/ { for (i = 2; i <= length($0); i++) print "-" substr($0, i, 1); next } { print }' |
		sort -u
}
# all_in FROM_FN FROM_DESC IN_FN IN_DESC: every option FROM_FN prints is also
# among those IN_FN prints (and FROM_FN prints some).
all_in() {
	local o from have rc=0
	from=$($1)
	have=$($3)
	[[ -n $from ]] || { diag "no options found in $2"; return 1; }
	for o in $from; do
		grep -qx -- "$o" <<<"$have" || { diag "$2 lists $o, $4 does not"; rc=1; }
	done
	return $rc
}
check "connectd.8 describes every option of connectd -h" all_in opts_of_help "connectd -h" opts_of_man connectd.8
check "connectd -h lists every option of connectd.8" all_in opts_of_man connectd.8 opts_of_help "connectd -h"
