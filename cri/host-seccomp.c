/* The RuntimeDefault-like seccomp filter of the host backend. Default allow; EPERM for
 * the syscalls that docker's default profile withholds from unprivileged containers:
 * kernel modules and kexec, mounts and namespaces, clock and system settings, tracing and
 * cross-process memory access, keyrings, BPF and perf, handle-based opens, and user
 * namespace creation through clone/unshare. */
#include <sched.h>
#include <string.h>

#include "host-seccomp.h"

static const char *const denied[] = {
    /* kernel code and boot */
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "create_module",
    "get_kernel_syms",
    "query_module",
    /* file systems and namespaces */
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "setns",
    "swapon",
    "swapoff",
    "quotactl",
    "quotactl_fd",
    "open_by_handle_at",
    "name_to_handle_at",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "nfsservctl",
    "sysfs",
    "_sysctl",
    /* clock and system state */
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "stime",
    "acct",
    "vhangup",
    "syslog",
    "uselib",
    "ustat",
    /* hardware and I/O privilege */
    "iopl",
    "ioperm",
    /* tracing, introspection, other processes' memory */
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "perf_event_open",
    "bpf",
    "lookup_dcookie",
    "userfaultfd",
    "fanotify_init",
    /* keyrings */
    "keyctl",
    "add_key",
    "request_key",
    /* NUMA policy of the host */
    "mbind",
    "set_mempolicy",
    "move_pages",
    NULL,
};

/* personality(2) values docker allows: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32,
 * and the 0xffffffff query: any combination of these two bits. */
#define PERSONALITY_ALLOWED_BITS ((scmp_datum_t)0x20008)

const char *const *host_seccomp_denied(void)
{
        return denied;
}

static int add_rules(scmp_filter_ctx ctx)
{
        int r;

        for (size_t i = 0; denied[i]; i++) {
                int nr = seccomp_syscall_resolve_name(denied[i]);
                if (nr == __NR_SCMP_ERROR || nr < 0)
                        continue; /* not on this architecture */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
                if (r < 0)
                        return r;
        }
        /* new user namespaces are the gate to most of the above */
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        if (r < 0)
                return r;
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        if (r < 0)
                return r;
        /* clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc use clone */
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        if (r < 0 && r != -EFAULT)
                return r;
        /* personality: a filter cannot say "not in this set" on one argument, so per bit:
         * below bit 31 only PER_LINUX32 (bit 3) and UNAME26 (bit 17) may be set; with bit 31
         * set only the 0xffffffff query is allowed. The kernel reads the low 32 bits only. */
        for (unsigned bit = 0; bit < 31 && r >= 0; bit++) {
                scmp_datum_t b = (scmp_datum_t)1 << bit, hi = (scmp_datum_t)1 << 31;
                if (!(PERSONALITY_ALLOWED_BITS & b))
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, b | hi, b));
                if (r >= 0)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, b | hi, hi));
        }
        return r;
}

int host_seccomp_build(scmp_filter_ctx *ret)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r;

        if (!ctx)
                return -ENOMEM;
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r >= 0)
                r = add_rules(ctx);
        if (r < 0) {
                seccomp_release(ctx);
                return r;
        }
        *ret = ctx;
        return 0;
}

int host_seccomp_apply(void)
{
        scmp_filter_ctx ctx;
        int r;

        r = host_seccomp_build(&ctx);
        if (r < 0)
                return r;
        r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}
