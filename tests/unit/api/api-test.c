/* Test harness of the API unit tests: server in a temp dir on a private loop, and an HTTP
 * client in a forked child whose exit (a pidfd) ends the loop run of a request. */
#include <criterion/criterion.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "api-test.h"
#include "json-util.h"
#include "util.h"

#define REQUEST_TIMEOUT_USEC (20 * USEC_PER_SEC)

const char *api_test_group(void)
{
        struct group *gr;

        if (geteuid() == 0)
                return NULL;
        gr = getgrgid(getegid());
        cr_assert_not_null(gr);
        return gr->gr_name;
}

void api_test_start(ApiTest *t, bool root_only)
{
        api_test_start_with(t, root_only, NULL);
}

void api_test_start_with(ApiTest *t, bool root_only, const ApiHooks *hooks)
{
        char tmpl[] = "/tmp/berth-api-test-XXXXXX";
        const char *group = NULL;
        ApiOptions opts;

        *t = (ApiTest){};
        cr_assert_not_null(mkdtemp(tmpl));
        /* traversable, so that a client running as another user reaches the socket */
        cr_assert_eq(chmod(tmpl, 0755), 0);
        t->dir = strdup(tmpl);
        t->socket_path = strjoin(tmpl, "/api.sock", NULL);
        t->log_dir = strjoin(tmpl, "/logs", NULL);
        t->state_dir = strjoin(tmpl, "/state", NULL);
        cr_assert_eq(mkdir_p(t->state_dir, 0755), 0);
        cr_assert_eq(mkdir_p(t->log_dir, 0755), 0);
        if (!root_only)
                group = api_test_group();
        opts = (ApiOptions){.socket_path = t->socket_path,
                            .listen_fd = -1,
                            .socket_group = group,
                            .log_dir = t->log_dir,
                            .node_name = "test-node"};
        cr_assert_eq(sd_event_new(&t->event), 0);
        cr_assert_eq(store_open(&t->store, t->state_dir), 0);
        cr_assert_eq(api_server_new(&t->api, t->event, t->store, &opts, hooks), 0);
}

void api_test_stop(ApiTest *t)
{
        api_server_free(t->api);
        store_free(t->store);
        sd_event_unref(t->event);
        if (t->dir)
                rm_rf(t->dir);
        free(t->dir);
        free(t->socket_path);
        free(t->log_dir);
        free(t->state_dir);
        *t = (ApiTest){};
}

static void write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

                if (k <= 0)
                        return; /* the server may close early (413, 403): then read its answer */
                p += k;
                n -= (size_t)k;
        }
}

static _noreturn_ void client_main(const char *socket_path, uid_t uid, gid_t gid, const char *req,
                                   size_t size, int out)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char buf[65536];
        ssize_t k;
        int fd;

        if (uid != (uid_t)-1 && (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0))
                _exit(2);
        strncpy(sa.sun_path, socket_path, sizeof(sa.sun_path) - 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                _exit(3);
        write_all(fd, req, size);
        while ((k = read(fd, buf, sizeof(buf))) > 0)
                if (write(out, buf, (size_t)k) != k)
                        _exit(4);
        _exit(0);
}

static int on_child_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        *(bool *)userdata = true;
        return 0;
}

static void parse_reply(char *raw, size_t size, HttpReply *ret)
{
        char *sep = strstr(raw, "\r\n\r\n");

        cr_assert_not_null(sep, "no header end in reply: %s", raw);
        *sep = 0;
        ret->raw = raw;
        cr_assert_eq(sscanf(raw, "HTTP/1.%*d %u", &ret->code), 1, "bad status line: %s", raw);
        ret->headers = raw;
        ret->body = sep + 4;
        ret->body_size = size - (size_t)(ret->body - raw);
        ret->json = cJSON_ParseWithLength(ret->body, ret->body_size);
}

int api_test_raw(ApiTest *t, uid_t uid, gid_t gid, const char *req, size_t size, HttpReply *ret)
{
        _cleanup_close_ int out = memfd_create("reply", MFD_CLOEXEC), pidfd = -EBADF;
        _cleanup_(sd_event_source_unrefp) sd_event_source *src = NULL;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + REQUEST_TIMEOUT_USEC;
        bool exited = false;
        char *raw;
        size_t raw_size;
        int status;
        pid_t pid;

        *ret = (HttpReply){};
        cr_assert_geq(out, 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0)
                client_main(t->socket_path, uid, gid, req, size, out);
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        cr_assert_geq(pidfd, 0);
        cr_assert_eq(sd_event_add_io(t->event, &src, pidfd, EPOLLIN, on_child_exit, &exited), 0);
        while (!exited && now_usec(CLOCK_MONOTONIC) < deadline)
                cr_assert_geq(sd_event_run(t->event, 100 * USEC_PER_MSEC), 0);
        if (!exited)
                kill(pid, SIGKILL);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(exited, "the request did not finish in time");
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "client failed: %d", status);

        cr_assert_eq(lseek(out, 0, SEEK_SET), 0);
        cr_assert_eq(read_full_fd(out, 64 * 1024 * 1024, &raw, &raw_size), 0);
        parse_reply(raw, raw_size, ret);
        return 0;
}

int api_test_request(ApiTest *t, const char *method, const char *path, const char *body, HttpReply *ret)
{
        _cleanup_free_ char *req = NULL;
        int n;

        if (body)
                n = asprintf(&req,
                             "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                             method, path, strlen(body), body);
        else
                n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", method,
                             path);
        cr_assert_gt(n, 0);
        return api_test_raw(t, (uid_t)-1, (gid_t)-1, req, (size_t)n, ret);
}

char *http_reply_header(const HttpReply *r, const char *name)
{
        size_t len = strlen(name);

        for (const char *l = strstr(r->headers, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
                const char *h = l + 2, *end;

                if (strncasecmp(h, name, len) != 0 || h[len] != ':')
                        continue;
                h += len + 1;
                while (*h == ' ')
                        h++;
                end = strstr(h, "\r\n");
                return end ? strndup(h, (size_t)(end - h)) : strdup(h);
        }
        return NULL;
}

void http_reply_done(HttpReply *r)
{
        cJSON_Delete(r->json);
        free(r->raw);
        *r = (HttpReply){};
}

char *api_test_pod(const char *name, const char *app)
{
        char *s = NULL;

        cr_assert_gt(asprintf(&s,
                              "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                              "\"labels\":{\"app\":\"%s\"}},\"spec\":{\"containers\":[{\"name\":\"main\","
                              "\"image\":\"busybox:1.36\"}]}}",
                              name, app),
                     0);
        return s;
}
