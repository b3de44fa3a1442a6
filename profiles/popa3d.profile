# popa3d: POP3 mailbox access. It starts as root (add the domain without
# --user): it checks passwords with PAM (service popa3d: pam_unix reads
# the jail's /etc/shadow), runs the protocol as user popa3d chrooted into
# the empty /var/lib/popa3d, then reads /var/mail/USER as the mailbox
# user. --user U adds a mailbox user to the jail's passwd and group.
description POP3 server: popa3d (starts as root; PAM service popa3d, mailboxes /var/mail/USER)
program /usr/sbin/popa3d
pam popa3d
user popa3d home=/var/lib/popa3d shell=/usr/sbin/nologin
dir /var 0755 root root
dir /var/lib 0755 root root
dir /var/lib/popa3d 0755 root root
dir /var/mail 0755 root root
# the jail's password hashes: provision never copies the host's
skel /etc/shadow 0600
| # shadow(5) of this jail: NAME:HASH:19000:0:99999:7::: (openssl passwd -6)
inetd pop3 stream tcp nowait root /usr/sbin/virtuald virtuald pop3 /usr/sbin/popa3d
syslog /dev/log
note give each mailbox user (--user U) a line in JAIL/etc/shadow and a mailbox JAIL/var/mail/U owned by U, mode 0600
