/* Tests for log.c: levels, and journal entries with the structured fields of the object being
 * worked on, read from journald's native socket as journald would (a socket bound in a
 * private mount namespace: the machine's journal is not touched). */
#include <criterion/criterion.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"
#include "util.h"

#define JOURNAL_DIR "/run/systemd/journal"

static int journal_fd = -1;

static void setup_journal(void)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = JOURNAL_DIR "/socket"};
        struct timeval tv = {.tv_sec = 2};

        if (geteuid() != 0) {
                if (streq_ptr(getenv("CI"), "true"))
                        cr_assert_fail("test-log needs root for a private mount namespace (CI=true)");
                cr_skip_test("needs root for a private mount namespace (CI=true makes this a failure)");
        }
        cr_assert_eq(unshare(CLONE_NEWNS), 0);
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        cr_assert_eq(mkdir_p(JOURNAL_DIR, 0755), 0);
        cr_assert_eq(mount("tmpfs", JOURNAL_DIR, "tmpfs", 0, "mode=0755"), 0);
        journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(journal_fd, 0);
        cr_assert_eq(bind(journal_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        cr_assert_eq(setsockopt(journal_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
        log_set_journal(true);
        log_set_max_level(LOG_DEBUG);
}

static void teardown_journal(void)
{
        log_set_journal(false);
        log_set_object(NULL, NULL, NULL);
        safe_close(journal_fd);
        journal_fd = -1;
}

/* The next entry, as journald receives it: FIELD=value lines. */
static char *next_entry(void)
{
        char buf[8192];
        ssize_t n = recv(journal_fd, buf, sizeof(buf) - 1, 0);

        cr_assert_gt(n, 0, "no journal entry arrived");
        buf[n] = 0;
        return strdup(buf);
}

static bool has_line(const char *entry, const char *line)
{
        size_t len = strlen(line);

        for (const char *p = entry; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, line, len) == 0 && (p[len] == '\n' || p[len] == 0))
                        return true;
        return false;
}

TestSuite(log_journal, .init = setup_journal, .fini = teardown_journal);

Test(log_journal, entries_carry_the_object_being_worked_on)
{
        _cleanup_free_ char *plain = NULL, *pod = NULL, *job = NULL, *err = NULL;

        log_info("agent started");
        plain = next_entry();
        cr_expect(has_line(plain, "MESSAGE=agent started"), "%s", plain);
        cr_expect(has_line(plain, "PRIORITY=6"), "%s", plain);
        cr_expect(!strstr(plain, "POD=") && !strstr(plain, "KIND="), "%s", plain);

        log_set_object("Pod", "default", "web-0");
        log_set_container("nginx");
        log_warning("container restarted");
        pod = next_entry();
        cr_expect(has_line(pod, "KIND=Pod"), "%s", pod);
        cr_expect(has_line(pod, "NAMESPACE=default"), "%s", pod);
        cr_expect(has_line(pod, "POD=web-0"), "%s", pod);
        cr_expect(has_line(pod, "CONTAINER=nginx"), "%s", pod);
        cr_expect(has_line(pod, "PRIORITY=4"), "%s", pod);

        log_set_object("Job", "batch", "nightly");
        (void)log_error_errno(ENOENT, "no such thing: %m");
        err = next_entry();
        cr_expect(has_line(err, "KIND=Job"), "%s", err);
        cr_expect(has_line(err, "NAME=nightly"), "%s", err);
        cr_expect(!strstr(err, "CONTAINER="), "a new object clears the container: %s", err);
        cr_expect(has_line(err, "ERRNO=2"), "%s", err);
        cr_expect(has_line(err, "MESSAGE=no such thing: No such file or directory"), "%s", err);

        log_set_max_level(LOG_INFO);
        log_debug("not sent");
        log_info("sent");
        job = next_entry();
        cr_expect(has_line(job, "MESSAGE=sent"), "a debug entry went out at level info: %s", job);
}

Test(log, levels_by_name)
{
        cr_expect_eq(log_level_from_string("debug"), LOG_DEBUG);
        cr_expect_eq(log_level_from_string("WARNING"), LOG_WARNING);
        cr_expect_eq(log_level_from_string("error"), LOG_ERR);
        cr_expect_eq(log_level_from_string("verbose"), -EINVAL);
        cr_expect_eq(log_level_from_string(NULL), -EINVAL);
}
