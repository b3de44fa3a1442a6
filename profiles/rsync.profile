# rsync daemon started by the super-server (rsync --daemon sees a
# socket on stdin), as the domain's --user: no chroot of its own (virtuald
# is the jail), modules in the jail's /etc/rsyncd.conf.
description rsync daemon (rsync://), as the --user; modules in /etc/rsyncd.conf, one module [files] = /srv/rsync
package rsync
program /usr/bin/rsync
dir /srv 0755 root root
dir /srv/rsync 0755 @user @group
skel /etc/rsyncd.conf 0644
| # rsyncd.conf(5) of this jail (written by vhostctl provision --profile rsync
| # when there was none; yours now). The daemon runs as the domain's --user:
| # no chroot or uid switch of its own, virtuald's jail is the boundary.
| use chroot = no
| max connections = 0
| reverse lookup = no
| [files]
| 	path = /srv/rsync
| 	comment = files of this domain
| 	read only = yes
inetd rsync stream tcp nowait root /usr/sbin/virtuald virtuald rsync /usr/bin/rsync --daemon
syslog /dev/log
note put the files in JAIL/srv/rsync (owned by the --user); clients: rsync rsync://HOST/files/
