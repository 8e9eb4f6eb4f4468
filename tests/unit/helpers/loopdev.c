/* Loop devices of a test (see loopdev.h). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <string.h>
#include <sys/ioctl.h>

#include "loopdev.h"
#include "util.h"

#define DETACH_WAIT_USEC (5 * USEC_PER_SEC)

size_t test_loops_below(const char *dir, void (*f)(const char *dev))
{
        DIR *d = opendir("/sys/block");
        size_t n = 0, len = strlen(dir);

        cr_assert_not_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *sys = NULL, *backing = NULL, *dev = NULL;

                if (!startswith(de->d_name, "loop"))
                        continue;
                sys = strjoin("/sys/block/", de->d_name, "/loop/backing_file", NULL);
                dev = strjoin("/dev/", de->d_name, NULL);
                cr_assert(sys && dev);
                if (read_one_line_file(sys, &backing) < 0 || !startswith(backing, dir) ||
                    backing[len] != '/')
                        continue;
                n++;
                if (f)
                        f(dev);
        }
        closedir(d);
        return n;
}

static void clear_loop(const char *dev)
{
        int fd = open(dev, O_RDONLY | O_CLOEXEC);

        if (fd >= 0) {
                (void)ioctl(fd, LOOP_CLR_FD, 0);
                close(fd);
        }
}

size_t test_loops_detach_below(const char *dir)
{
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + DETACH_WAIT_USEC;
        size_t left;

        (void)test_loops_below(dir, clear_loop);
        while ((left = test_loops_below(dir, NULL)) > 0 && now_usec(CLOCK_MONOTONIC) < deadline)
                (void)usleep(50000);
        return left;
}

bool test_have_capability(int cap)
{
        _cleanup_free_ char *status = NULL;
        unsigned long long eff;
        const char *p;

        cr_assert_eq(read_full_file("/proc/self/status", 1 << 16, &status, NULL), 0);
        p = strstr(status, "\nCapEff:");
        cr_assert_not_null(p);
        cr_assert_eq(sscanf(p + 8, "%llx", &eff), 1);
        return eff & (1ULL << cap);
}

void test_require_root(const char *test)
{
        if (geteuid() == 0)
                return;
        if (streq_ptr(getenv("CI"), "true"))
                cr_assert_fail("%s needs root for loop devices and mounts (CI=true)", test);
        cr_skip_test("needs root for loop devices and mounts (CI=true makes this a failure)");
}
