/* paths.h - every file path the programs use, in one place: where the
 * database lives and what sits beside it, the cgroup root, the profiling
 * build's timing file, and the system files read. Included by the
 * modules that open them (and by vhostctl through them). */
#ifndef VH_PATHS_H
#define VH_PATHS_H

/* The database (virtuald --db, vhostctl --db) and its sidecars: SQLite's
 * -wal and -shm, the lookup index (ix.h) */
#define VH_DB_DEFAULT_PATH "/var/lib/virtuald/vhosts.db"
#define VH_WAL_SUFFIX "-wal"
#define VH_SHM_SUFFIX "-shm"
#define VH_IX_SUFFIX "-index"

/* The pids cgroup v1 parent of the per-domain cgroups (cgroup.h,
 * virtuald --cgroup-dir) */
#define VH_CGROUP_DEFAULT_DIR "/sys/fs/cgroup/pids/virtuald"

/* Issue 13 point 10: one empty file per domain that each connection's
 * virtuald holds open while its service runs, so that vhostctl disable
 * or remove --kill finds the domain's trees (running.h). The directory
 * is root's, 0700; its parent 0755. */
#define VH_RUNNING_PARENT "/run/virtuald"
#define VH_RUNNING_DIR VH_RUNNING_PARENT "/running"
/* Issue 16: the per-boot secret that keys per-source buckets (slots.h) */
#define VH_LIMITS_KEY_PATH VH_RUNNING_PARENT "/limits.key"

/* A VH_TIMING build appends its marks here (timing.h); CMake's
 * VH_TIMING_FILE cache variable overrides it. */
#ifndef VH_TIMING_FILE
#define VH_TIMING_FILE "/run/virtuald-timing.log"
#endif

/* System files read */
#define VH_BOOT_ID_FILE "/proc/sys/kernel/random/boot_id" /* ixstamp.c: a stamp is of one boot */
#define VH_PROC_FD_DIR "/proc/self/fd"                    /* fdutil.c */
#define VH_DEV_NULL "/dev/null"
#define VH_LD_SO_CONF "/etc/ld.so.conf" /* provision.c */

#endif
