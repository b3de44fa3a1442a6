# GNU inetutils ftpd: the classic ftpd, started by the super-server as
# root (add the domain without --user). -A: anonymous only, chrooted by
# ftpd itself into the home of user ftp (/srv/ftp). Its PAM service is
# ftp (for real users; anonymous logins do not ask PAM).
description FTP server: inetutils ftpd (starts as root; anonymous downloads from /srv/ftp/pub)
program /usr/sbin/ftpd
pam ftp
user ftp home=/srv/ftp shell=/usr/sbin/nologin
dir /srv 0755 root root
dir /srv/ftp 0755 root root
dir /srv/ftp/pub 0755 root root
inetd ftp stream tcp nowait root /usr/sbin/virtuald virtuald ftp /usr/sbin/ftpd -A
syslog /dev/log
note put the files in JAIL/srv/ftp/pub; clients: curl ftp://HOST/pub/
