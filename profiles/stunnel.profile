# stunnel in inetd mode: TLS in front of a plain-text service, one
# customer's certificate per jail. The super-server hands the
# connection to virtuald --tls-sni, which chooses the jail by the
# ClientHello's server name and leaves every byte of it queued; stunnel
# (no accept= in its configuration: inetd mode) reads the handshake from
# stdin, presents the jail's own certificate and runs the service of its
# exec= line on the plain-text side (here busybox httpd, one request per
# connection). It runs as the domain's --user: no setuid or chroot of its
# own (virtuald's jail is the boundary), so the key must be readable by
# that user and nobody else, and not writable by it: JAIL/etc/stunnel/
# key.pem root:GROUP-OF-USER, mode 0640. stunnel's threads end with
# pthread_exit, for which glibc loads libgcc_s at run time (no
# DT_NEEDED names it): package libgcc-s1 brings it.
description TLS web server: stunnel4 in inetd mode (/etc/stunnel/stunnel.conf) running busybox httpd -i -h /www, as the --user; the jail's own certificate
program /usr/bin/stunnel4
program /bin/busybox
package libgcc-s1
dir /etc/stunnel 0755 root root
dir /www 0755 root root
skel /etc/stunnel/stunnel.conf 0644
| ; stunnel.conf(5) of this jail (written by vhostctl provision --profile
| ; stunnel when there was none; yours now). Inetd mode: no accept= and no
| ; [service] section; the connection is stdin and stdout.
| ; Logs go to syslog only, /dev/log in the jail (there when the operator
| ; binds one): never foreground = yes or output = /dev/stderr, since
| ; inetd gives the service the connection as stderr too, and a log line
| ; there would land in the client's TLS stream.
| debug = err
| cert = /etc/stunnel/cert.pem
| key = /etc/stunnel/key.pem
| exec = /bin/busybox
| execArgs = busybox httpd -i -h /www
skel /www/index.html 0644
| <!doctype html>
| <html><head><title>It works</title></head><body><p>It works over TLS: this jail's /www/index.html.</p></body></html>
inetd https stream tcp nowait root /usr/sbin/virtuald virtuald --tls-sni https /usr/bin/stunnel4 /etc/stunnel/stunnel.conf
syslog /dev/log
note put the certificate chain in JAIL/etc/stunnel/cert.pem (0644) and its key in JAIL/etc/stunnel/key.pem, root:GROUP-OF-USER, mode 0640; the site in JAIL/www; add the domain by name: vhostctl add https NAME JAIL --user U
