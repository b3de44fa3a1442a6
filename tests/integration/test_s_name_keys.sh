#!/bin/bash
# Issue 17, vhostctl's side: host-name and wildcard keys (fleet.md 3.1,
# 3.3, 3.4; doc/design.md "Selection by TLS server name"). No network:
# vhostctl alone, and lookup, which decides with virtuald's own code.
# - add takes a name or a one-label wildcard, stored normalised (lower
#   case, no trailing dot); refuses what is no host name, one label, an
#   IP-shaped name, '*' anywhere but the whole first label, '*.org';
# - set, disable, enable, history, remove, list --address take them;
# - lookup --name: exact address > name > wildcard > prefix > default,
#   the specific service before '*', one label of wildcard only, a
#   disabled name row refuses (no fall-through), an IP literal or a
#   one-label name is no name;
# - export skips name rows and says so, import --replace keeps them;
# - check warns about a name row no virtuald --tls-sni line (nor a
#   trusted balancer's AUTHORITY) can reach, and not when one can.
. "$(dirname "$0")/lib.sh"

vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
for j in a b w park dflt dedicated; do vh_mkjail "$J/$j" "page $j"; done
rc() {
	"$@" >/dev/null 2>&1
	echo $?
}

# --- add: names and wildcards, normalised; refusals -------------------------
vh_check "add https A.Example.Test. (a name, upper case and a trailing dot)" \
	vh_ctl add https A.Example.Test. "$J/a" --user nobody
vh_check "add a wildcard *.w.example.test" vh_ctl add https '*.w.example.test' "$J/w" --user nobody
vh_check "add a name for every service ('*')" vh_ctl add '*' b.example.test "$J/b" --user nobody
vh_eq "the name is stored normalised" "a.example.test" \
	"$(sqlite3 "$DB" "SELECT address FROM domains WHERE root = '$J/a'")"
vh_eq "another spelling of the same name is a duplicate (65)" 65 "$(rc vh_ctl add https a.EXAMPLE.test "$J/b" --user nobody)"
for bad in 'a.*.example.test:whole first label' '*.test:never *.org' 'localhost:one label' \
	'1.2.3.4.5:not an IP address' 'a_b.example.test:character other than' 'a..example.test:empty label' \
	"$(printf 'b\303\274cher.test'):xn--" 'x-.example.test:hyphen' \
	"$(printf '%064d' 0 | tr 0 a).example.test:longer than 63"; do
	key=${bad%%:*} why=${bad#*:}
	out=$(vh_ctl add https "$key" "$J/b" --user nobody 2>&1)
	vh_eq "add refuses '$key' (65)" 65 "$(rc vh_ctl add https "$key" "$J/b" --user nobody)"
	vh_contains "add '$key': says $why" "$why" "$out"
done
long=$(printf 'a%.0s' $(seq 63)).$(printf 'b%.0s' $(seq 63)).$(printf 'c%.0s' $(seq 63)).$(printf 'd%.0s' $(seq 56)).test
vh_eq "a name of 255 bytes is no key (65)" 65 "$(rc vh_ctl add https "x.$long" "$J/b" --user nobody)"
vh_contains "it says why" "longer than 253" "$(vh_ctl add https "x.$long" "$J/b" --user nobody 2>&1)"
# the running file and pids cgroup are named "vh-" HEX(service) "-n" NAME
# (cgroup.h): 255 bytes leave 240 for a name beside https
vh_eq "a name of 253 bytes: too long beside https for the running file's name (65)" 65 \
	"$(rc vh_ctl add https "$long" "$J/b" --user nobody)"
vh_contains "it says why and what to do" "too long for service 'https'" "$(vh_ctl add https "$long" "$J/b" --user nobody 2>&1)"
vh_eq "one of 240 is a key" 0 "$(rc vh_ctl add https "${long:13}" "$J/b" --user nobody)"
vh_eq "and 241 is not" 65 "$(rc vh_ctl add https "${long:12}" "$J/b" --user nobody)"
vh_check "the 240-byte row can be removed" vh_ctl remove https "${long:13}"

# --- the other commands take a name -------------------------------------------
vh_check "set a name row's comment" vh_ctl set https a.example.test --comment "customer A"
vh_contains "list --address a name" "customer A" "$(vh_ctl list --address A.EXAMPLE.TEST)"
vh_check "disable a name row" vh_ctl disable https a.example.test
vh_check "enable it again" vh_ctl enable https a.example.test
vh_contains "history of a name row" "enable" "$(vh_ctl history https a.example.test)"
vh_contains "list shows a wildcard" "*.w.example.test" "$(vh_ctl list)"

# --- lookup --name: the order of fleet.md 3.3 ---------------------------------
vh_check "add a prefix row (parking) 127.0.0.0/8" vh_ctl add https 127.0.0.0/8 "$J/park" --user nobody
vh_check "add a default row" vh_ctl add https default "$J/dflt" --user nobody
vh_check "add a dedicated address 127.0.0.9" vh_ctl add https 127.0.0.9 "$J/dedicated" --user nobody
# rule_root ADDRESS [NAME]: "RULE ROOT" of lookup --json
rule_root() {
	vh_ctl lookup https "$1" ${2:+--name "$2"} --json | sed -n 's/^{[^{]*"rule": "\([^"]*\)".*"root": "\([^"]*\)".*/\1 \2/p'
}
vh_eq "a name on a shared address: the name row" "name $J/a" "$(rule_root 127.0.0.2 a.example.test)"
vh_eq "normalised as virtuald does (case, trailing dot)" "name $J/a" "$(rule_root 127.0.0.2 A.EXAMPLE.TEST.)"
vh_eq "the '*' name row for another service's name" "name-any-service $J/b" "$(rule_root 127.0.0.2 b.example.test)"
vh_eq "one label under the wildcard: the wildcard row" "wildcard $J/w" "$(rule_root 127.0.0.2 www.w.example.test)"
vh_eq "two labels under it: not the wildcard (the prefix)" "prefix/8 $J/park" "$(rule_root 127.0.0.2 a.b.w.example.test)"
vh_eq "the wildcard's own name: not the wildcard" "prefix/8 $J/park" "$(rule_root 127.0.0.2 w.example.test)"
vh_eq "an unknown name: the prefix" "prefix/8 $J/park" "$(rule_root 127.0.0.2 nobody.example.test)"
vh_eq "a dedicated address beats any name" "exact $J/dedicated" "$(rule_root 127.0.0.9 a.example.test)"
vh_eq "no name: the prefix" "prefix/8 $J/park" "$(rule_root 127.0.0.2)"
vh_eq "a name outside the prefix: the name row still" "name $J/a" "$(rule_root 192.0.2.1 a.example.test)"
vh_eq "outside the prefix without a name: the default" "default $J/dflt" "$(rule_root 192.0.2.1)"
out=$(vh_ctl lookup https 127.0.0.2 --name 10.0.0.1)
vh_contains "an IP literal is no name" "IP literal, which virtuald takes as no name" "$out"
vh_contains "and the address chooses" "rule 5, prefix/8" "$out"
out=$(vh_ctl lookup https 127.0.0.2 --name localhost)
vh_contains "a name of one label matches no row" "one label" "$out"
vh_eq "--name that is no host name is a usage error (64)" 64 "$(rc vh_ctl lookup https 127.0.0.2 --name 'a b.test')"
out=$(vh_ctl lookup https 127.0.0.2 --name www.w.example.test)
vh_eq "lookup lists 10 probes (2 + 4 of the name + 2 of the /8 + 2 defaults)" 10 \
	"$(printf '%s\n' "$out" | grep -cE '^ +[0-9]+  ')"
vh_contains "the name probe missed" "name                       https  www.w.example.test" "$out"
vh_contains "the wildcard decided" "*.w.example.test                             hit: decides" "$out"
vh_check "disable the name row" vh_ctl disable https a.example.test
vh_eq "a disabled name row refuses: no fall-through to the prefix (1)" 1 \
	"$(rc vh_ctl lookup https 127.0.0.2 --name a.example.test)"
vh_contains "it says the row is disabled" "disabled" "$(vh_ctl lookup https 127.0.0.2 --name a.example.test)"
vh_check "enable it again" vh_ctl enable https a.example.test

# --- export skips name rows, import --replace keeps them ----------------------
out=$(vh_ctl export --service https 2>&1 >"$F/flat.conf")
vh_contains "export says how many rows it skipped" "3 domains on a prefix (NET/LEN), host name or wildcard skipped" "$out"
vh_not_contains "the flat file holds no name" "example.test" "$(cat "$F/flat.conf")"
vh_contains "it holds the dedicated address" "127.0.0.9" "$(cat "$F/flat.conf")"
printf '127.0.0.7 %s\ndefault %s\n' "$J/dedicated" "$J/dflt" >"$F/new.conf"
vh_check "import --replace of the flat file" vh_ctl import --service https --replace "$F/new.conf"
vh_eq "the names and the prefix stay, the address rows are replaced" \
	"*.w.example.test 127.0.0.0/8 127.0.0.7 a.example.test default" \
	"$(sqlite3 "$DB" "SELECT address FROM domains WHERE service = 'https' ORDER BY address" | paste -sd' ')"

# --- check: a name row nothing can reach -------------------------------------
printf 'https stream tcp nowait root /usr/sbin/virtuald virtuald --db %s https /bin/probe\n' "$DB" >"$F/plain.conf"
printf 'https stream tcp nowait root /usr/sbin/virtuald virtuald --db %s --first-bytes-timeout 2 --tls-sni https /bin/probe\n' "$DB" >"$F/sni.conf"
out=$(vh_ctl check --inetd-conf "$F/plain.conf" 2>&1)
vh_contains "check: a name row without a --tls-sni line is a warning" "https/a.example.test: warning [name-never-chosen]" "$out"
vh_contains "check: so is the wildcard" "https/*.w.example.test: warning [name-never-chosen]" "$out"
vh_contains "check: the fix names the option" "add --tls-sni to virtuald's options on the https line" "$out"
out=$(vh_ctl check --inetd-conf "$F/sni.conf" 2>&1)
vh_not_contains "check: with virtuald --tls-sni on the line, no such warning" "name-never-chosen" "$out"
out=$(vh_ctl check --inetd-conf "$F/none.conf" 2>&1)
vh_not_contains "check: no inetd.conf to read, nothing said" "name-never-chosen" "$out"
vh_check "a trusted balancer for https" vh_ctl proxy-trust add 127.0.0.1 --service https
out=$(vh_ctl check --inetd-conf "$F/plain.conf" 2>&1)
vh_not_contains "check: a trusted balancer may send AUTHORITY: no warning" "https/a.example.test: warning [name-never-chosen]" "$out"

vh_done
