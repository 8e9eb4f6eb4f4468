#include <criterion/criterion.h>
#include <sys/wait.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sched.h>

#include "host-seccomp.h"

Test(host_seccomp, denies_the_documented_syscalls)
{
        const char *const *l = host_seccomp_denied();
        bool mount = false, kexec = false, bpf = false;

        for (size_t i = 0; l[i]; i++) {
                mount = mount || strcmp(l[i], "mount") == 0;
                kexec = kexec || strcmp(l[i], "kexec_load") == 0;
                bpf = bpf || strcmp(l[i], "bpf") == 0;
        }
        cr_assert(mount && kexec && bpf);
}

Test(host_seccomp, builds_a_filter_with_rules)
{
        scmp_filter_ctx ctx = NULL;
        uint32_t nnp = 1;

        cr_assert_eq(host_seccomp_build(&ctx), 0);
        cr_assert_not_null(ctx);
        cr_assert_eq(seccomp_attr_get(ctx, SCMP_FLTATR_CTL_NNP, &nnp), 0);
        cr_assert_eq(nnp, 0, "the filter must not force no_new_privs");
        /* the BPF program exists and is not trivially small */
        FILE *f = tmpfile();
        cr_assert_not_null(f);
        cr_assert_eq(seccomp_export_bpf(ctx, fileno(f)), 0);
        cr_assert_gt(ftell(f) > 0 ? ftell(f) : lseek(fileno(f), 0, SEEK_END), 8 * 40);
        fclose(f);
        seccomp_release(ctx);
}

/* Loading needs no_new_privs when unprivileged; a forked child sets it and checks that the
 * filter blocks what it should and allows the rest. */
Test(host_seccomp, blocks_denied_syscalls_in_a_child)
{
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || host_seccomp_apply() < 0)
                        _exit(10);
                if (mount("none", "/tmp", "tmpfs", 0, NULL) == 0 || errno != EPERM)
                        _exit(11);
                if (syscall(SYS_unshare, CLONE_NEWUSER) == 0 || errno != EPERM)
                        _exit(12);
                if (personality(PER_BSD) != -1 || errno != EPERM)
                        _exit(13);
                if (personality(0xffffffff) == -1)
                        _exit(14);
                if (personality(0x80040000) != -1 || errno != EPERM)
                        _exit(16);
                if (personality(PER_LINUX32) == -1 || personality(PER_LINUX) == -1)
                        _exit(17);
                if (getpid() <= 0)
                        _exit(15);
                _exit(0);
        }
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st));
        cr_assert_eq(WEXITSTATUS(st), 0, "child failed step %d", WEXITSTATUS(st));
}
