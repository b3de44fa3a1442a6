-- virtuald schema, version 6: the jails' manifest (issue 14 point 4).
-- What each `vhostctl provision` run asked for and copied into a jail,
-- with the SHA-256 of every copied file as it was on the host, so that
-- `vhostctl check` can say which copies are missing from a jail or
-- differ from the host's current file (a security update not applied),
-- and `vhostctl provision --refresh` can copy again what an `apt upgrade`
-- changed. Written by provision in one transaction after the copy
-- succeeded; a run merges its entries with what is there (other
-- services' entries are never dropped); only --refresh, which redoes
-- every request of the jail, takes off the files no request needs any
-- more. virtuald never reads these tables. The jail is its root path as
-- given to provision (the same path `add` stores in domains.root).

-- What the jail was provisioned with: each --program, --package,
-- --file, --pam, --gconv and --profile of every run (a profile's own
-- programs, packages, files and PAM services are listed too: --refresh
-- redoes these, never the profile as it reads today).
CREATE TABLE jail_provisions (
    jail  TEXT NOT NULL CHECK (substr(jail, 1, 1) = '/'),
    what  TEXT NOT NULL CHECK (what IN ('program', 'package', 'file', 'pam', 'gconv', 'profile')),
    name  TEXT NOT NULL,                          -- host path, package, PAM service, profile; '' for gconv
    time  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),  -- the last run that asked for it
    PRIMARY KEY (jail, what, name)
) WITHOUT ROWID;

-- Every regular file provision copied from the host (programs, their
-- interpreters and libraries, modules, --file and package files, NSS,
-- PAM modules, locale, gconv), with the checksum of the bytes it wrote.
-- Not listed: configuration provision writes only when the jail has none
-- (/etc files of packages and profiles, PAM stacks, nsswitch.conf: the
-- tenant's once there), symlinks, devices, directories, accounts.
CREATE TABLE jail_files (
    jail       TEXT NOT NULL CHECK (substr(jail, 1, 1) = '/'),
    path       TEXT NOT NULL CHECK (substr(path, 1, 1) = '/'),  -- inside the jail
    host_path  TEXT NOT NULL CHECK (substr(host_path, 1, 1) = '/'),
    kind       TEXT NOT NULL CHECK (kind IN ('program', 'interpreter', 'library', 'file')),
    source     TEXT NOT NULL,                     -- the request that brought it: 'program /usr/bin/cat', ...
    sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
    mode       INTEGER NOT NULL CHECK (typeof(mode) = 'integer' AND mode BETWEEN 0 AND 511),
    size       INTEGER NOT NULL CHECK (typeof(size) = 'integer' AND size >= 0),
    time       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),  -- when last written or verified
    PRIMARY KEY (jail, path)
) WITHOUT ROWID;

PRAGMA user_version = 6;
