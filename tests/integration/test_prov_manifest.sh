#!/bin/bash
# Issue 14 point 4: the manifest. provision records in the database what
# it copied into a jail and the host checksums; an `apt upgrade` is
# simulated by replacing host files provision copied (fixtures of this
# test under a root-owned 0755 directory of its own - never a real system
# file): plain `check` (no --program) reports the stale copies, the
# service still serves the old file, `provision --refresh` copies the
# new ones, reports each with its old and new checksum, copies the new
# library the upgraded program needs, and both services of the jail
# serve the new versions; check is clean again. Also: a program missing
# from the jail is a finding of plain check and --refresh restores it;
# re-provisioning one service keeps the other's entries; --refresh --all;
# a vanished host file stops that jail's refresh (nothing written) with
# the file named and the fix, --forget takes it off; no database: a
# warning. Ports 19640-19641.
. "$(dirname "$0")/lib.sh"

# Host fixtures reachable by every host user (provision copies nothing
# only root can reach): beside $F, removed with it.
H=/run/vhtest/$VH_NAME.$$.host
rm -rf "$H"
trap 'rm -rf "$H"; vh_cleanup' EXIT
mkdir -m 0755 "$H" "$H/bin" "$H/share"
cp /usr/bin/cat "$H/bin/tool" # version 1 of "tool": needs only libc
chmod 0755 "$H/bin/tool"
echo "page version 1" >"$H/share/page.html"
chmod 0644 "$H/share/page.html"

vh_init_db
vh_test_user mfa 41740
vh_test_user mfb 41741
mkdir -m 0755 "$F/jails"
J=$F/jails/shared

short() { sha256sum "$1" | cut -c1-12; }
sum_in_db() { sqlite3 "$DB" "SELECT sha256 FROM jail_files WHERE jail = '$1' AND path = '$2'"; }

# --- the manifest is recorded ------------------------------------------
out=$(vh_ctl provision "$J" --program /bin/busybox --file "$H/share/page.html" --user mfa 2>&1)
vh_eq "provision service A (busybox httpd and its page) exits 0" 0 "$?"
vh_contains "provision says the manifest is recorded" "recorded the manifest of $J: 2 files" "$out"
vh_eq "the manifest holds the page with its host checksum" "$(sha256sum "$H/share/page.html" | cut -d' ' -f1)" \
	"$(sum_in_db "$J" "$H/share/page.html")"
vh_eq "and its requests" "file $H/share/page.html|program /bin/busybox" \
	"$(sqlite3 "$DB" "SELECT what || ' ' || name FROM jail_provisions WHERE jail = '$J' ORDER BY what" | paste -sd'|')"
out=$(vh_ctl provision "$J" --program "$H/bin/tool" --user mfb 2>&1)
vh_eq "provision service B (tool, dynamically linked) exits 0" 0 "$?"
vh_contains "B's libc is in the manifest, from its request" "program $H/bin/tool" \
	"$(sqlite3 "$DB" "SELECT source FROM jail_files WHERE jail = '$J' AND kind = 'library' AND path LIKE '%/libc.so.6'")"
vh_eq "A's entries survived B's provision" 2 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM jail_files WHERE jail = '$J' AND source IN ('program /bin/busybox', 'file $H/share/page.html')")"
out=$(vh_ctl provision "$J" --manifest)
vh_contains "--manifest lists the requests" "request program $H/bin/tool" "$out"
vh_contains "--manifest lists the files with their checksums" "file $H/bin/tool $(short "$H/bin/tool") 0755" "$out"

vh_check "add service A (httpd as mfa)" vh_ctl add http 127.0.0.71 "$J" --user mfa
vh_check "add service B (tool as mfb)" vh_ctl add tool 127.0.0.72 "$J" --user mfb
vh_tcpserver 127.0.0.71 19640 "$VIRTUALD" --db "$DB" http /bin/busybox httpd -i -h "$H/share"
vh_tcpserver 127.0.0.72 19641 "$VIRTUALD" --db "$DB" tool "$H/bin/tool" /etc/group
serves() {
	printf 'A=%s B=%s' "$(vh_get 127.0.0.71 19640 /page.html)" "$(vh_talk 127.0.0.72 19641 | head -n 1)"
}
vh_eq "both serve version 1" "A=page version 1 B=root:x:0:" "$(serves)"
out=$(vh_ctl check 2>&1)
rc=$?
vh_eq "check of the fresh jail: exit 0" 0 "$rc"
vh_contains "check of the fresh jail: clean" "2 domains: 0 errors, 0 warnings" "$out"

# --- apt upgrade on the host -------------------------------------------
old_page=$(short "$H/share/page.html")
old_tool=$(short "$H/bin/tool")
echo "page version 2" >"$H/share/page.html"
cp /bin/ls "$H/bin/tool.new" && mv "$H/bin/tool.new" "$H/bin/tool" # version 2: needs a library more
new_page=$(short "$H/share/page.html")
new_tool=$(short "$H/bin/tool")
newlib=$(comm -13 <(ldd /usr/bin/cat | awk '/=>/ {print $1}' | sort) <(ldd /bin/ls | awk '/=>/ {print $1}' | sort) | head -n 1)
out=$(vh_ctl check 2>&1)
rc=$?
vh_eq "after the upgrade, plain check exits 1 (warnings)" 1 "$rc"
vh_contains "check names the stale page" \
	"http/127.0.0.71: warning [stale-copy] $J$H/share/page.html: stale copy: security update not applied - the host's $H/share/page.html changed since it was copied into the jail (copied $old_page, host now $new_page) - fix: vhostctl provision --refresh $J" \
	"$out"
vh_contains "check names the stale program" "warning [stale-copy] $J$H/bin/tool: stale copy: security update not applied" "$out"
vh_eq "the jail still serves the old copies" "A=page version 1 B=root:x:0:" "$(serves)"

out=$(vh_ctl provision --refresh "$J" 2>&1)
vh_eq "--refresh exits 0" 0 "$?"
vh_contains "--refresh reports the page, old -> new" "refreshed $J$H/share/page.html: $old_page -> $new_page (from $H/share/page.html)" "$out"
vh_contains "--refresh reports the program, old -> new" "refreshed $J$H/bin/tool: $old_tool -> $new_tool" "$out"
vh_contains "--refresh copies the new library the upgraded program needs ($newlib)" "added $J/" \
	"$(grep -F "/$newlib:" <<<"$out")"
vh_eq "the new library is in the manifest" 1 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM jail_files WHERE jail = '$J' AND path LIKE '%/$newlib'")"
vh_eq "the jail's copies are the host's" "$(sha256sum <"$H/bin/tool")" "$(sha256sum <"$J$H/bin/tool")"
vh_eq "the refreshed program keeps provision's owner and mode" "0:0 755" "$(stat -c '%u:%g %a' "$J$H/bin/tool")"
vh_eq "both services serve the new versions" "A=page version 2 B=/etc/group" "$(serves)"
out=$(vh_ctl check 2>&1)
vh_eq "check after --refresh: exit 0" 0 "$?"
vh_not_contains "check after --refresh: no stale copy" "stale-copy" "$out"
out=$(vh_ctl provision --refresh "$J" 2>&1)
vh_eq "--refresh with nothing to do: exit 0" 0 "$?"
vh_contains "--refresh with nothing to do says so" "$J: up to date (" "$out"
vh_eq "the refresh is in the history" "provision --refresh $J" \
	"$(sqlite3 "$DB" "SELECT command FROM history WHERE command LIKE 'provision --refresh%' ORDER BY id LIMIT 1")"

# --- a program missing from the jail: plain check, no --program ---------
rm "$J$H/bin/tool"
out=$(vh_ctl check 2>&1)
vh_eq "missing program: plain check exits 2" 2 "$?"
vh_contains "missing program: named with the fix" \
	"tool/127.0.0.72: error [manifest-missing] $J$H/bin/tool: program $H/bin/tool is in the jail's manifest (for program $H/bin/tool) but not in the jail, or no longer a regular file there - fix: vhostctl provision --refresh $J" \
	"$out"
out=$(vh_ctl provision --refresh "$J" 2>&1)
vh_contains "--refresh restores it" "restored $J$H/bin/tool: $new_tool" "$out"
vh_eq "restored: B serves" "A=page version 2 B=/etc/group" "$(serves)"

# --- re-provisioning one service keeps the other's entries -------------
before=$(sqlite3 "$DB" "SELECT count(*) FROM jail_files WHERE jail = '$J'")
out=$(vh_ctl provision "$J" --program /bin/busybox --user mfa 2>&1)
vh_eq "re-provision service A exits 0" 0 "$?"
vh_eq "every entry is still there" "$before" "$(sqlite3 "$DB" "SELECT count(*) FROM jail_files WHERE jail = '$J'")"
vh_eq "B's program still recorded" 1 "$(sqlite3 "$DB" "SELECT count(*) FROM jail_files WHERE jail = '$J' AND path = '$H/bin/tool'")"
vh_eq "after re-provisioning A, both serve" "A=page version 2 B=/etc/group" "$(serves)"

# --- --refresh --all ----------------------------------------------------
J2=$F/jails/second
out=$(vh_ctl provision "$J2" --program /bin/busybox --file "$H/share/page.html" 2>&1)
vh_eq "provision a second jail exits 0" 0 "$?"
echo "page version 3" >"$H/share/page.html"
out=$(vh_ctl provision --refresh --all 2>&1)
vh_eq "--refresh --all exits 0" 0 "$?"
vh_contains "--refresh --all: the first jail" "refreshed $J$H/share/page.html: $new_page -> $(short "$H/share/page.html")" "$out"
vh_contains "--refresh --all: the second jail" "refreshed $J2$H/share/page.html: $new_page -> $(short "$H/share/page.html")" "$out"
vh_contains "--refresh --all: the summary" "refreshed 2 jails: 2 changed (2 changes), 0 up to date, 0 failed" "$out"
vh_eq "both jails serve version 3" "page version 3|page version 3" "$(cat "$J$H/share/page.html")|$(cat "$J2$H/share/page.html")"

# --- a host file that vanished ------------------------------------------
mv "$H/share/page.html" "$H/page.saved"
out=$(vh_ctl check http 127.0.0.71 2>&1)
vh_contains "check: the vanished host file is named" "warning [host-file-gone] $J$H/share/page.html: the host file $H/share/page.html this copy came from (for file $H/share/page.html) is gone" "$out"
jailsum=$(sha256sum <"$J$H/share/page.html")
out=$(vh_ctl provision --refresh --all 2>&1)
vh_eq "--refresh --all with a vanished request: exit 66 (no input)" 66 "$?"
vh_contains "the vanished file is named" "$H/share/page.html on the host" "$out"
vh_contains "with the fix" "jail $J2 was not refreshed (above): a host file it was provisioned with is gone - its copies stay as they were; put the host file back" "$out"
vh_contains "the fix names --forget" "vhostctl provision $J2 --forget NAME" "$out"
vh_eq "the jail's copy was left as it was" "$jailsum" "$(sha256sum <"$J$H/share/page.html")"
out=$(vh_ctl provision "$J2" --forget "$H/share/page.html" 2>&1)
vh_eq "--forget exits 0" 0 "$?"
vh_contains "--forget says what it took off" "forgot 1 request and 1 file of $J2's manifest (the files stay in the jail)" "$out"
out=$(vh_ctl provision --refresh "$J2" 2>&1)
vh_eq "after --forget, the second jail refreshes" 0 "$?"
vh_contains "and is up to date" "$J2: up to date" "$out"
out=$(vh_ctl provision "$J2" --forget /no/such 2>&1)
vh_eq "--forget of a request the manifest lacks: exit 66" 66 "$?"
vh_contains "and it says how to list them" "vhostctl provision $J2 --manifest lists them" "$out"
mv "$H/page.saved" "$H/share/page.html"

# --- usage and a jail without a manifest --------------------------------
out=$(vh_ctl provision --refresh "$F/jails/none" 2>&1)
vh_eq "--refresh of a jail without a manifest: exit 66" 66 "$?"
vh_contains "it says how to get one" "has no manifest in $DB - provision it with this database first" "$out"
out=$(vh_ctl provision "$J" --refresh --program /bin/busybox 2>&1)
vh_eq "--refresh with something to install: usage error" 64 "$?"
out=$(vh_ctl provision --all 2>&1)
vh_eq "--all without --refresh: usage error" 64 "$?"
out=$("$VHOSTCTL" --db "$F/nodb/vhosts.db" provision "$F/jails/third" --program /bin/busybox 2>&1)
vh_eq "no database: provision still works" 0 "$?"
vh_contains "no database: a warning that nothing is recorded" "warning: no database $F/nodb/vhosts.db: what provision copied into $F/jails/third is not recorded" "$out"

vh_done
