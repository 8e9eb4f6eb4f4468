/* A real etcd for a test: see etcd-fixture.h. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "etcd-fixture.h"
#include "loopback.h"
#include "util.h"

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Whether any process still has dir on its command line: an etcd of this test left over. */
static bool process_uses(const char *dir)
{
        _cleanup_(closedirp) DIR *d = opendir("/proc");
        struct dirent *de;

        cr_assert_not_null(d);
        while ((de = readdir(d))) {
                _cleanup_free_ char *cmdline = NULL;
                char path[PATH_MAX];
                size_t n;

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
                if (read_full_file(path, 1 << 20, &cmdline, &n) < 0)
                        continue; /* gone meanwhile */
                if (memmem(cmdline, n, dir, strlen(dir)))
                        return true;
        }
        return false;
}

static void kill_and_wait(EtcdFixture *f, int sig)
{
        int status;

        if (f->pid <= 0)
                return;
        cr_assert_eq(kill(f->pid, sig), 0);
        (void)kill(f->pid, SIGCONT); /* a stopped etcd handles its SIGTERM only once continued */
        for (int i = 0; i < 100 && waitpid(f->pid, &status, WNOHANG) == 0; i++)
                usleep(50 * 1000);
        if (kill(f->pid, 0) == 0) {
                (void)kill(f->pid, SIGKILL);
                (void)waitpid(f->pid, &status, 0);
        }
        f->pid = -1;
}

void etcd_fixture_stop(EtcdFixture *f)
{
        kill_and_wait(f, SIGTERM);
        if (f->dir[0]) {
                cr_assert_eq(rm_rf(f->dir), 0);
                cr_assert_not(process_uses(f->dir), "an etcd of this test is still running");
                f->dir[0] = 0;
        }
}

const char *etcd_fixture_binary(void)
{
        static char path[PATH_MAX];
        const char *env = getenv("BERTH_TEST_ETCD"), *p = getenv("PATH");

        if (env)
                return access(env, X_OK) == 0 ? env : NULL;
        while (p && *p) {
                size_t n = strcspn(p, ":");

                snprintf(path, sizeof(path), "%.*s/etcd", (int)n, p);
                if (n > 0 && access(path, X_OK) == 0)
                        return path;
                p += n + (p[n] == ':');
        }
        return NULL;
}

static size_t ignore_body(char *data, size_t size, size_t nmemb, void *userdata)
{
        return size * nmemb;
}

/* GET /health answers 200 once the member has a leader. */
bool etcd_fixture_healthy(const EtcdFixture *f)
{
        CURL *e = curl_easy_init();
        char url[96];
        long http = 0;
        CURLcode r;

        cr_assert_not_null(e);
        snprintf(url, sizeof(url), "%s/health", f->url);
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 1000L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ignore_body);
        r = curl_easy_perform(e);
        (void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http);
        curl_easy_cleanup(e);
        return r == CURLE_OK && http == 200;
}

static void print_log(const EtcdFixture *f)
{
        _cleanup_free_ char *log = NULL, *path = strjoin(f->dir, "/etcd.log", NULL);
        size_t n;

        if (path && read_full_file(path, 1 << 20, &log, &n) >= 0)
                cr_log_error("etcd's log:\n%s", n > 4000 ? log + n - 4000 : log);
}

/* Runs etcd on the fixture's directory and ports, and waits until it is healthy. */
static void run(EtcdFixture *f, const char *bin)
{
        char data[96], log[96], cluster[96];
        int status;
        usec_t deadline;

        snprintf(cluster, sizeof(cluster), "t=%s", f->peer);
        snprintf(data, sizeof(data), "%s/data", f->dir);
        snprintf(log, sizeof(log), "%s/etcd.log", f->dir);
        f->pid = fork();
        cr_assert_geq(f->pid, 0);
        if (f->pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

                /* never outlive the test, even one that crashes */
                if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                        _exit(126);
                execl(bin, "etcd", "--name", "t", "--data-dir", data, "--listen-client-urls", f->url,
                      "--advertise-client-urls", f->url, "--listen-peer-urls", f->peer,
                      "--initial-advertise-peer-urls", f->peer, "--initial-cluster", cluster, (char *)NULL);
                _exit(127);
        }
        deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        while (!etcd_fixture_healthy(f)) {
                if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
                        f->pid = -1;
                        print_log(f);
                        cr_assert_fail("etcd exited at start (status %d)", status);
                }
                if (now_usec(CLOCK_MONOTONIC) > deadline) {
                        print_log(f);
                        cr_assert_fail("etcd did not answer /health within 30 s");
                }
                usleep(50 * 1000);
        }
}

void etcd_fixture_start(EtcdFixture *f)
{
        const char *bin = etcd_fixture_binary();
        int port, peer_port;

        if (!bin) {
                if (streq_ptr(getenv("CI"), "true"))
                        cr_assert_fail("etcd is not installed (Debian etcd-server), and CI=true needs it");
                cr_skip_test(
                    "etcd is not installed (apt-get install etcd-server); CI=true makes this a failure");
        }
        snprintf(f->dir, sizeof(f->dir), "/tmp/berth-test-etcd-XXXXXX");
        cr_assert_not_null(mkdtemp(f->dir));
        port = loopback_closed_port();
        do
                peer_port = loopback_closed_port();
        while (peer_port == port);
        snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", port);
        snprintf(f->peer, sizeof(f->peer), "http://127.0.0.1:%d", peer_port);
        run(f, bin);
}

void etcd_fixture_restart(EtcdFixture *f)
{
        const char *bin = etcd_fixture_binary();

        cr_assert_not_null(bin);
        kill_and_wait(f, SIGKILL);
        run(f, bin);
}

static bool all_threads_stopped(pid_t pid)
{
        char path[64];
        DIR *d;
        struct dirent *de;
        bool stopped = true;

        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
        d = opendir(path);
        if (!d)
                return false;
        while (stopped && (de = readdir(d))) {
                char stat_path[PATH_MAX], buf[512], *paren;
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(stat_path, sizeof(stat_path), "%s/%s/stat", path, de->d_name);
                f = fopen(stat_path, "re");
                if (!f)
                        continue; /* a thread that ended */
                if (!fgets(buf, sizeof(buf), f))
                        buf[0] = 0;
                fclose(f);
                /* "pid (comm) S ...": the state follows the last parenthesis */
                paren = strrchr(buf, ')');
                stopped = paren && paren[1] == ' ' && (paren[2] == 'T' || paren[2] == 't');
        }
        closedir(d);
        return stopped;
}

void etcd_fixture_pause(EtcdFixture *f)
{
        cr_assert_eq(kill(f->pid, SIGSTOP), 0);
        for (int i = 0; i < 500 && !all_threads_stopped(f->pid); i++)
                usleep(2000);
        cr_assert(all_threads_stopped(f->pid), "etcd did not stop");
}
