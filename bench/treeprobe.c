/* treeprobe - the cost of virtuald's process tree (issue 11), without
 * virtuald's other steps in the way.
 *
 *   treeprobe [-m KIB] exec|tree|tree-ns|tree-pid|tree-ipc PROGRAM [ARG...]
 *
 * First touches KIB of heap, so that the process is about virtuald's
 * size (fork copies the page tables of what is mapped, and every page
 * written afterwards on either side is a copy-on-write fault). Then
 *   exec     execs PROGRAM at once: the floor;
 *   tree     what virtuald does after its last step (src/virtuald.c
 *            run_tree): clone a child (CLONE_VM | CLONE_VFORK |
 *            CLONE_FILES, its own stack), the child vforks the service,
 *            which execs PROGRAM; each waits for its own with waitpid
 *            and passes the status on;
 *   tree-ns  the same after unshare(CLONE_NEWPID | CLONE_NEWIPC), so
 *            that the child is PID 1 of a new PID namespace, as in
 *            virtuald: adds the namespaces' creation and teardown;
 *   tree-pid, tree-ipc  the same with only the PID or only the IPC
 *            namespace: which of the two costs what.
 * Run each under vh_spawn (bench/spawn.c): the differences of CPU per
 * start and of wall time are what the two extra processes, and the
 * namespaces, cost. Exit status: PROGRAM's, 71 when a step fails.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int wait_status(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static unsigned char pid1_stack[64 * 1024] __attribute__((aligned(64)));

static int pid1(void *arg)
{
    char **prog = arg;
    pid_t svc = vfork();
    if (svc < 0)
        _exit(71);
    if (svc == 0) {
        execv(prog[0], prog);
        _exit(71);
    }
    _exit(wait_status(svc));
}

int main(int argc, char **argv)
{
    long kib = 0;
    int opt;
    while ((opt = getopt(argc, argv, "+m:")) != -1) {
        if (opt != 'm')
            return 64;
        kib = atol(optarg);
    }
    if (argc - optind < 2 || kib < 0) {
        fprintf(stderr, "usage: treeprobe [-m KIB] exec|tree|tree-ns|tree-pid|tree-ipc PROGRAM [ARG...]\n");
        return 64;
    }
    const char *mode = argv[optind];
    char **prog = argv + optind + 1;
    if (kib > 0) {
        volatile char *mem = malloc((size_t)kib * 1024);
        if (!mem)
            return 71;
        memset((char *)mem, 1, (size_t)kib * 1024);
    }
    if (strcmp(mode, "exec") == 0) {
        execv(prog[0], prog);
        return 71;
    }
    int ns = strcmp(mode, "tree-ns") == 0    ? CLONE_NEWPID | CLONE_NEWIPC
             : strcmp(mode, "tree-pid") == 0 ? CLONE_NEWPID
             : strcmp(mode, "tree-ipc") == 0 ? CLONE_NEWIPC
             : strcmp(mode, "tree") == 0     ? 0
                                             : -1;
    if (ns < 0)
        return 64;
    if (ns && unshare(ns) < 0)
        return 71;
    /* as virtuald: PID 1 a clone sharing memory and descriptors, on a
     * stack of its own, while this process sleeps until it exits */
    pid_t init = clone(pid1, pid1_stack + sizeof pid1_stack, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, prog);
    if (init < 0)
        return 71;
    return wait_status(init);
}
