# git daemon in inetd mode: read-only git:// access to the repositories
# below /srv/git, as the domain's --user (who owns them: git refuses a
# repository owned by another user). The git package brings git-core's
# helpers (git-daemon, git-upload-pack, ...) and their libraries.
description git daemon (git://, read-only), repositories in /srv/git owned by the --user
package git
program /usr/lib/git-core/git-daemon
dir /srv 0755 root root
dir /srv/git 0755 @user @group
inetd git stream tcp nowait root /usr/sbin/virtuald virtuald git /usr/lib/git-core/git-daemon --inetd --syslog --export-all --base-path=/srv/git /srv/git
# --syslog: under inetd, stderr is the client's socket
syslog /dev/log
note put bare repositories in JAIL/srv/git (git init --bare, owned by the --user); clients: git clone git://HOST/NAME
