#!/usr/bin/env bash
# The manual pages: they format without warnings, and connectd(8) describes
# every option connectd -h lists (and the other way round).
. "$(dirname "$0")/lib.sh"
need_bin connectd
need_cmd man

for page in "$E2E_ROOT"/docs/man/*.[1-8]; do
	warn() { LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null; }
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
missing_in_man() {
	local o m rc=0
	m=$(opts_of_man)
	for o in $(opts_of_help); do
		grep -qx -- "$o" <<<"$m" || { diag "connectd -h lists $o, connectd.8 does not"; rc=1; }
	done
	return $rc
}
missing_in_help() {
	local o h rc=0
	h=$(opts_of_help)
	for o in $(opts_of_man); do
		grep -qx -- "$o" <<<"$h" || { diag "connectd.8 lists $o, connectd -h does not"; rc=1; }
	done
	return $rc
}
check "connectd.8 describes every option of connectd -h" missing_in_man
check "connectd -h lists every option of connectd.8" missing_in_help
