#!/bin/bash
# Red team, K7 (issue 11 point 7, not fixed on this snapshot): a root
# service keeps CAP_FOWNER/CAP_CHOWN, plants a set-uid-root copy of a
# program in its jail; a local unprivileged user runs it through the
# world-searchable jail path on a file system without nosuid and reads
# /etc/shadow. Control: the plant itself succeeds (so the check below is
# about the exposure, not a failed plant).
. "$(dirname "$0")/lib.sh"
RP=${VH_REDPROBE:-$VH_BUILD/tests/integration/vh_redprobe}
vh_init_db
J=$F/jails
mkdir -m 0755 "$J"
vh_mkjail "$J/r" "R"
cp "$RP" "$J/r/bin/redprobe"
mkdir -m 1777 "$J/r/tmp"
vh_ctl add probe 127.0.0.2 "$J/r" >/dev/null 2>&1
vh_tcpserver 0 19331 "$VIRTUALD" --db "$DB" probe /bin/redprobe plant /tmp/x
out=$(vh_talk 127.0.0.2 19331)
vh_contains "control: the root service plants a set-uid-root file in its jail" "chmod=ok" "$out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$J/r/tmp/x" whoami 2>&1)
echo "# host user runs $J/r/tmp/x: $out"
vh_not_contains "K7 a host user does not run the planted file as root" "euid=0" "$out"
vh_not_contains "K7 a host user does not read /etc/shadow through it" "shadow=READ" "$out"
vh_done
