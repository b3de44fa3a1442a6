# vsftpd in inetd mode (listen=NO), started by the super-server as root
# (add the domain without --user): anonymous downloads from /srv/ftp, the
# protocol run as nobody in the empty /var/run/vsftpd/empty. Its own
# namespaces (isolate) and seccomp sandbox are off: virtuald gives the
# service its namespaces and system-call filter already, and refuses the
# clone flags vsftpd would use.
description FTP server: vsftpd in inetd mode (starts as root; anonymous downloads from /srv/ftp)
program /usr/sbin/vsftpd
pam vsftpd
file /etc/shells
user ftp home=/srv/ftp shell=/usr/sbin/nologin
user nobody home=/nonexistent shell=/usr/sbin/nologin
dir /srv 0755 root root
dir /srv/ftp 0755 root root
dir /var 0755 root root
dir /var/run 0755 root root
dir /var/run/vsftpd 0755 root root
dir /var/run/vsftpd/empty 0555 root root
skel /etc/vsftpd.conf 0644
| # vsftpd.conf(5) of this jail (written by vhostctl provision --profile vsftpd
| # when there was none; yours now). Started by the super-server: listen=NO.
| listen=NO
| listen_ipv6=NO
| anonymous_enable=YES
| anon_root=/srv/ftp
| local_enable=NO
| write_enable=NO
| secure_chroot_dir=/var/run/vsftpd/empty
| nopriv_user=nobody
| pam_service_name=vsftpd
| isolate=NO
| isolate_network=NO
| seccomp_sandbox=NO
| syslog_enable=YES
| xferlog_enable=NO
| connect_from_port_20=NO
| pasv_enable=YES
inetd ftp stream tcp nowait root /usr/sbin/virtuald virtuald ftp /usr/sbin/vsftpd /etc/vsftpd.conf
syslog /dev/log
note put the files in JAIL/srv/ftp; clients: curl ftp://HOST/
