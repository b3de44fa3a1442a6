#!/bin/bash
# Issue 13 point 9: findings that can go green, and the effective selection.
# - accept/unaccept: stored with reason, who and when; check leaves accepted
#   findings out of its counts and exit status, --all lists them (text and
#   JSON); errors and kinds outside the allow-list are never accepted;
#   acceptances of a removed domain, a jail no longer used, a path gone are
#   reported as accepted-stale;
# - check SERVICE ADDRESS checks the row that serves it ('*' or default) and
#   says which;
# - list --effective shows the '*' rows that serve a service, with the rule;
#   list --address, --root, --user filter; --json stays valid JSON.
# No network: nothing here is served (ports 19460-19479 unused).
. "$(dirname "$0")/lib.sh"

vh_init_db
vh_test_user vhop9 19461
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/a" a
vh_mkjail "$J/b" b
jqe() { jq -e "$@" >/dev/null; }

# A root service for any service on 127.0.0.3 (runs-as-root: a warning),
# git's own rows in jail b as a user of its own (clean).
vh_ctl add '*' 127.0.0.3 "$J/a" >/dev/null 2>&1
vh_ctl add git 127.0.0.2 "$J/b" --user vhop9 >/dev/null 2>&1
vh_ctl add git default "$J/b" --user vhop9 >/dev/null 2>&1
vh_eq "fixture: three rows" 3 "$(vh_ctl list --json | jq length)"

out=$(vh_ctl check 2>&1)
vh_eq "check before any acceptance: warnings only, exit 1" 1 "$?"
vh_contains "check reports runs-as-root for the '*' row" "*/127.0.0.3: warning [runs-as-root]" "$out"
vh_eq "runs-as-root is the only finding" 1 "$(vh_ctl check --json | jq length)"

# --- check SERVICE ADDRESS: the row that serves it -------------------------
out=$(vh_ctl check svn 127.0.0.3 2>&1)
rc=$?
vh_eq "check svn 127.0.0.3 checks the '*' row that serves it: exit 1 (its warning)" 1 "$rc"
vh_contains "check svn 127.0.0.3 says which row" \
	"svn on 127.0.0.3 is served by the row * 127.0.0.3 (rule 2, any-service): checking that row" "$out"
vh_contains "check svn 127.0.0.3 shows the '*' row's finding" "*/127.0.0.3: warning [runs-as-root]" "$out"
vh_contains "check svn 127.0.0.3 checked one domain" "checked the database and 1 domain:" "$out"
out=$(vh_ctl check git 127.0.0.9 2>&1)
vh_eq "check git 127.0.0.9 checks git's default row: exit 0" 0 "$?"
vh_contains "... and says so" "git on 127.0.0.9 is served by the row git default (rule 3, default)" "$out"
out=$(vh_ctl check git 127.0.0.2 2>&1)
vh_eq "check of a pair's own row prints only its summary" \
	"checked the database and 1 domain: 0 errors, 0 warnings" "$out"
vh_ctl check svn 127.0.0.9 >/dev/null 2>&1
vh_eq "check of a pair nothing serves: 68" 68 "$?"
json=$(vh_ctl check svn 127.0.0.3 --json 2>"$F/err")
vh_check "check svn 127.0.0.3 --json is valid JSON with the '*' row's finding" \
	jqe '.[0].domain == "*/127.0.0.3" and .[0].kind == "runs-as-root"' <<<"$json"
vh_contains "with --json the row is named on stderr" "served by the row * 127.0.0.3" "$(cat "$F/err")"

# --- accept: refusals ---------------------------------------------------------
out=$(vh_ctl accept owner --domain '*' 127.0.0.3 --reason "no" 2>&1)
vh_eq "accept of an error kind (owner): 65" 65 "$?"
vh_contains "... says it cannot be accepted and lists what can" "findings of kind 'owner' cannot be accepted" "$out"
vh_ctl accept setuid --jail "$J/a" --reason "no" >/dev/null 2>&1
vh_eq "accept setuid (a tenant becomes root): 65" 65 "$?"
vh_ctl accept nested-jail --jail "$J/a" --reason "no" >/dev/null 2>&1
vh_eq "accept nested-jail: 65" 65 "$?"
vh_ctl accept db-readable --domain '*' 127.0.0.3 --reason "no" >/dev/null 2>&1
vh_eq "accept of a database finding: 65" 65 "$?"
vh_ctl accept runs-as-root --domain svn 127.0.0.3 --reason "x" >/dev/null 2>&1
vh_eq "accept for a domain that does not exist: 68" 68 "$?"
vh_ctl accept runs-as-root --jail "$J/nowhere" --reason "x" >/dev/null 2>&1
vh_eq "accept for a jail no domain uses: 68" 68 "$?"
vh_ctl accept runs-as-root --domain '*' 127.0.0.3 >/dev/null 2>&1
vh_eq "accept without --reason: 64" 64 "$?"
out=$(vh_ctl accept socket --domain '*' 127.0.0.3 --path "$J/b/log" --reason "x" 2>&1)
vh_eq "accept with a --path outside the domain's jail: 65" 65 "$?"
vh_contains "... says so" "--path $J/b/log is not in the jail $J/a" "$out"
vh_ctl accept runs-as-root --domain '*' 127.0.0.3 --reason "" >/dev/null 2>&1
vh_eq "accept with an empty reason: 64 (no value)" 64 "$?"
out=$(vh_ctl accept runs-as-root --domain '*' 127.0.0.3 --reason "   " 2>&1)
vh_eq "accept with a blank reason: 65" 65 "$?"
vh_contains "... says why" "the reason is empty - say why the finding is accepted" "$out"
vh_ctl accept runs-as-root --domain '*' 127.0.0.3 --reason "$(printf 'two\nlines')" >/dev/null 2>&1
vh_eq "accept with a control character in the reason: 65" 65 "$?"
vh_ctl accept runs-as-root --domain '*' 127.0.0.3 --jail "$J/a" --reason "x" >/dev/null 2>&1
vh_eq "accept with both --domain and --jail: 64" 64 "$?"
vh_ctl accept runs-as-root --reason "x" >/dev/null 2>&1
vh_eq "accept without a subject: 64" 64 "$?"
vh_ctl check >/dev/null 2>&1
vh_eq "nothing refused was stored: check still exits 1" 1 "$?"

# --- accept: the finding goes green -----------------------------------------
out=$(SUDO_USER=alice vh_ctl accept runs-as-root --domain '*' 127.0.0.3 --reason "vsftpd must start as root" 2>&1)
vh_eq "accept runs-as-root for the domain: 0" 0 "$?"
vh_contains "accept says what it stored" \
	"accepted runs-as-root for domain * 127.0.0.3: vsftpd must start as root" "$out"
out=$(vh_ctl check 2>&1)
vh_eq "check with only accepted findings: exit 0" 0 "$?"
vh_not_contains "the accepted finding is not listed" "[runs-as-root]" "$out"
vh_contains "the summary counts it apart" \
	"0 errors, 0 warnings, 1 accepted (vhostctl check --all lists them)" "$out"
out=$(vh_ctl check --all 2>&1)
vh_eq "check --all: exit 0 too" 0 "$?"
vh_contains "check --all lists it apart with reason, who and when" \
	"*/127.0.0.3: accepted [runs-as-root] $J/a: " "$out"
vh_contains "check --all: the reason and who" "reason: vsftpd must start as root (alice, uid 0, 20" "$out"
vh_eq "check --json without --all: nothing left" "[]" "$(vh_ctl check --json | jq -c .)"
json=$(vh_ctl check --all --json)
vh_check "check --all --json: valid, with the acceptance" \
	jqe 'length == 1 and .[0].kind == "runs-as-root" and .[0].accepted.reason == "vsftpd must start as root" and .[0].accepted.login == "alice" and .[0].accepted.scope == "domain"' <<<"$json"
vh_ctl check svn 127.0.0.3 >/dev/null 2>&1
vh_eq "check svn 127.0.0.3 (served by the accepted '*' row): exit 0" 0 "$?"
out=$(vh_ctl accept runs-as-root --domain '*' 127.0.0.3 --reason "still needed" 2>&1)
vh_contains "accepting the same key again replaces the reason" "accepted again (reason replaced)" "$out"
vh_contains "... and check --all shows the new one" "reason: still needed" "$(vh_ctl check --all)"

# a warning not accepted still exits 1; an error 2
vh_ctl add ftp 127.0.0.4 "$J/a" >/dev/null 2>&1
out=$(vh_ctl check 2>&1)
vh_eq "a new warning that is not accepted: exit 1" 1 "$?"
vh_contains "... it is listed" "ftp/127.0.0.4: warning [runs-as-root]" "$out"
vh_ctl accept runs-as-root --jail "$J/a" --reason "both are FTP daemons" >/dev/null
vh_eq "accept runs-as-root for the jail covers every domain of it: exit 0" 0 \
	"$(vh_ctl check >/dev/null 2>&1; echo $?)"

# a socket at one path, accepted for the jail at that path only
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$J/b/log"
out=$(vh_ctl check 2>&1)
vh_eq "a socket in jail b: exit 1" 1 "$?"
vh_contains "... a socket warning for each git domain" "git/127.0.0.2: warning [socket] $J/b/log" "$out"
vh_ctl accept socket --jail "$J/b" --path "$J/b/log" --reason "the jail's own log socket" >/dev/null
out=$(vh_ctl check 2>&1)
vh_eq "socket accepted at its path: exit 0" 0 "$?"
vh_contains "... both git domains' socket findings accepted" "4 accepted" "$out"
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$J/b/log2"
out=$(vh_ctl check 2>&1)
vh_eq "another socket, at a path not accepted: exit 1" 1 "$?"
vh_contains "... it is listed" "warning [socket] $J/b/log2" "$out"
rm -f "$J/b/log2"

# an error is never covered, whatever is accepted for the jail
cp "$J/b/bin/busybox" "$J/b/bin/su" && chmod 4755 "$J/b/bin/su"
out=$(vh_ctl check 2>&1)
vh_eq "a set-uid file in an accepted jail: errors, exit 2" 2 "$?"
vh_contains "... the error is listed" "error [setuid] $J/b/bin/su" "$out"
rm -f "$J/b/bin/su"

# --- stale acceptances ---------------------------------------------------------
rm -f "$J/b/log"
out=$(vh_ctl check 2>&1)
vh_eq "an accepted path that is gone: exit 1" 1 "$?"
vh_contains "... reported as accepted-stale with the unaccept line" \
	"$J/b: warning [accepted-stale] $J/b/log: accepted finding socket (\"the jail's own log socket\") names what is gone: its path no longer exists - fix: vhostctl unaccept socket --jail $J/b --path $J/b/log" \
	"$out"
vh_ctl unaccept socket --jail "$J/b" --path "$J/b/log" >/dev/null
vh_eq "after unaccept: exit 0" 0 "$(vh_ctl check >/dev/null 2>&1; echo $?)"
vh_ctl unaccept socket --jail "$J/b" --path "$J/b/log" >/dev/null 2>&1
vh_eq "unaccept of what is not accepted: 68" 68 "$?"

vh_ctl remove '*' 127.0.0.3 >/dev/null
out=$(vh_ctl check 2>&1)
vh_eq "an accepted domain removed: exit 1" 1 "$?"
vh_contains "... its acceptance is accepted-stale" \
	"*/127.0.0.3: warning [accepted-stale] * 127.0.0.3: accepted finding runs-as-root (\"still needed\") names what is gone: the domain no longer exists" \
	"$out"
vh_check "... and valid in JSON" jqe 'map(select(.kind == "accepted-stale")) | length == 1' <<<"$(vh_ctl check --json)"
# the same key added again is another domain: the old acceptance covers it not
sleep 1.1 # rows and acceptances are stamped to the second
vh_ctl add '*' 127.0.0.3 "$J/a" >/dev/null 2>&1
out=$(vh_ctl check --all 2>&1)
vh_contains "a domain removed and added again: its old acceptance covers nothing (the jail's does)" \
	"reason: both are FTP daemons" "$(grep -F "*/127.0.0.3: accepted [runs-as-root] $J/a: " <<<"$out")"
vh_contains "... and is accepted-stale" \
	"names what is gone: the domain was removed and added again since: accept it anew if it still holds" "$out"
vh_ctl remove '*' 127.0.0.3 >/dev/null
vh_ctl unaccept runs-as-root --domain '*' 127.0.0.3 >/dev/null
vh_ctl remove ftp 127.0.0.4 >/dev/null
out=$(vh_ctl check 2>&1)
vh_contains "a jail no domain uses any more: accepted-stale" \
	"$J/a: warning [accepted-stale] $J/a: accepted finding runs-as-root (\"both are FTP daemons\") names what is gone: no domain is served from this jail any more" \
	"$out"
vh_ctl unaccept runs-as-root --jail "$J/a" >/dev/null
vh_eq "all withdrawn: clean, exit 0" 0 "$(vh_ctl check >/dev/null 2>&1; echo $?)"

# --- list: the effective selection and the filters ------------------------------
vh_ctl add '*' 127.0.0.3 "$J/a" >/dev/null 2>&1
vh_ctl add '*' 127.0.0.2 "$J/a" >/dev/null 2>&1
vh_ctl add '*' default "$J/a" >/dev/null 2>&1
vh_ctl add svn 127.0.0.5 "$J/a" >/dev/null 2>&1
json=$(vh_ctl list --service git --effective --json)
vh_eq "list --service git --effective: git's rows, then the '*' rows that serve git" \
	"git 127.0.0.2 exact|git default default|* 127.0.0.3 any-service" \
	"$(jq -r 'map("\(.service) \(.address) \(.rule)") | join("|")' <<<"$json")"
vh_not_contains "'* 127.0.0.2' does not serve git (git has its own row there)" '"127.0.0.2","root":"'"$J/a"'"' "$json"
json=$(vh_ctl list --service svn --effective --json)
vh_eq "svn has no default: '* default' serves it" \
	"svn 127.0.0.5 exact|* 127.0.0.2 any-service|* 127.0.0.3 any-service|* default any-service-default" \
	"$(jq -r 'map("\(.service) \(.address) \(.rule)") | join("|")' <<<"$json")"
out=$(vh_ctl list --service git --effective)
vh_contains "list --effective as a table: a RULE column" "RULE" "$(head -1 <<<"$out")"
vh_contains "... the '*' row marked any-service" "any-service          *        127.0.0.3" "$out"
vh_eq "... four lines (header, three rows)" 4 "$(wc -l <<<"$out")"
vh_eq "list --service git without --effective: its own rows only" 2 "$(vh_ctl list --service git --json | jq length)"
vh_check "list --json without --effective has no rule member" \
	jqe 'all(.[]; has("rule") | not)' <<<"$(vh_ctl list --json)"
vh_ctl list --effective >/dev/null 2>&1
vh_eq "list --effective without --service: 64" 64 "$?"

vh_eq "list --address 127.0.0.2: git's and '*''s rows" "* git" \
	"$(vh_ctl list --address 127.0.0.2 --json | jq -r 'map(.service) | sort | join(" ")')"
vh_eq "list --address default" "* git" \
	"$(vh_ctl list --address default --json | jq -r 'map(.service) | sort | join(" ")')"
vh_eq "list --root: the rows of that jail" "git default|git 127.0.0.2" \
	"$(vh_ctl list --root "$J/b" --json | jq -r 'map("\(.service) \(.address)") | sort | reverse | join("|")')"
vh_eq "list --user NAME" 2 "$(vh_ctl list --user vhop9 --json | jq length)"
vh_eq "list --user UID" 2 "$(vh_ctl list --user 19461 --json | jq length)"
vh_eq "list --user root: the root services" 4 "$(vh_ctl list --user root --json | jq length)"
vh_eq "filters combine" 1 "$(vh_ctl list --user root --address 127.0.0.5 --json | jq length)"
vh_eq "a filter matching nothing: [] (valid JSON)" "[]" "$(vh_ctl list --root "$J/none" --json | jq -c .)"
out=$(vh_ctl list --address 127.0.0.3)
vh_eq "list --address as a table: header and one row" 2 "$(wc -l <<<"$out")"
vh_ctl list --address 999.1.1.1 >/dev/null 2>&1
vh_eq "list --address with a bad address: 65" 65 "$?"

# --- every acceptance is a change: one history row each (point 8's trail)
n0=$(sqlite3 "$DB" "SELECT count(*) FROM history")
vh_ctl accept runs-as-root --domain '*' 127.0.0.3 --reason "audited: first" >/dev/null
vh_ctl accept runs-as-root --domain '*' 127.0.0.3 --reason "audited: second" >/dev/null
vh_ctl unaccept runs-as-root --domain '*' 127.0.0.3 >/dev/null
vh_ctl accept setuid --jail "$J/a" --reason "refused" >/dev/null 2>&1
vh_eq "accept, accept again, unaccept: three history rows (a refused accept none)" 3 \
	"$(sqlite3 "$DB" "SELECT count(*) - $n0 FROM history")"
vh_eq "the history holds the acceptance before and after" \
	"|audited: first|audited: first|audited: second|audited: second|" \
	"$(sqlite3 "$DB" "SELECT ifnull(json_extract(before, '$.reason'), '') || '|' || ifnull(json_extract(after, '$.reason'), '')
	  FROM history WHERE id > (SELECT max(id) - 3 FROM history) ORDER BY id" | tr '\n' '|' | sed 's/|$//')"
# --- an acceptance judged one jail and user: set --root or --user withdraws it
vh_ctl add http 127.0.0.30 "$J/a" >/dev/null 2>&1
vh_ctl accept runs-as-root --domain http 127.0.0.30 --reason "judged for jail a" >/dev/null
vh_ctl check http 127.0.0.30 >/dev/null 2>&1
vh_eq "accepted: check exits 0" 0 $?
out=$(vh_ctl set http 127.0.0.30 --root "$J/b" 2>&1)
vh_contains "set --root: says the acceptance is withdrawn" "1 acceptance of http 127.0.0.30 withdrawn" "$out"
vh_eq "and it is gone" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM accepted WHERE subject = 'http 127.0.0.30'")"
vh_ctl check http 127.0.0.30 >/dev/null 2>&1
vh_eq "check shows the finding again: exit 1" 1 $?
vh_ctl accept runs-as-root --domain http 127.0.0.30 --reason "judged for jail b" >/dev/null
vh_ctl set http 127.0.0.30 --comment "only a comment" >/dev/null 2>&1
vh_eq "set --comment keeps it" 1 "$(sqlite3 "$DB" "SELECT count(*) FROM accepted WHERE subject = 'http 127.0.0.30'")"
vh_ctl remove http 127.0.0.30 >/dev/null
# --- an unjailed row can go green: its `unjailed` warning is acceptable
vh_ctl add ftp default / --unjailed >/dev/null 2>&1
vh_ctl accept unjailed --domain ftp default --reason "the legacy default, kept on purpose" >/dev/null
vh_eq "accept unjailed: taken" 0 $?
vh_ctl accept runs-as-root --domain ftp default --reason "kept on purpose" >/dev/null
vh_ctl check ftp default >/dev/null 2>&1
vh_eq "an unjailed root row with its warnings accepted: check exits 0" 0 $?
vh_ctl remove ftp default >/dev/null
vh_done
