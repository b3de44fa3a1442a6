/* args.h - where virtuald's own options end and the service's argv starts. */
#ifndef VH_ARGS_H
#define VH_ARGS_H

/* virtuald [--db FILE] [--verbose] SERVICE PROGRAM [ARG...]
 * Scan argv from 1 over virtuald's own options only (--db FILE, --db=FILE,
 * --pids-cgroup DIR, --proxy MODE, --first-bytes-timeout SECONDS (and their =VALUE forms), --verbose, --help,
 * --version, an unknown '-' word, and a "--" that ends them) and return the index of SERVICE, or argc when there is
 * none. Everything from SERVICE+1 on is the service's argv, passed untouched even when it holds words starting with '-'
 * (no getopt permutation). */
int vh_args_split(int argc, char *const *argv);

#endif
