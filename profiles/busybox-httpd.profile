# busybox httpd: a small web server, one request per connection, run by
# the super-server through virtuald as the domain's --user.
description web server: busybox httpd (static binary), serves /www as the --user; CGI in /www/cgi-bin
program /bin/busybox
# the web root: root's, the site is the operator's to put there
dir /www 0755 root root
skel /www/index.html 0644
| <!doctype html>
| <html><head><title>It works</title></head><body><p>It works: this jail's /www/index.html.</p></body></html>
inetd www stream tcp nowait root /usr/sbin/virtuald virtuald www /bin/busybox httpd -i -h /www
note put the site in JAIL/www (index.html is written only when there is none); add the domain with --user U
