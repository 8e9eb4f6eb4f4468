/* Test harness of the API unit tests: server in a temp dir on a private loop, and an HTTP
 * client in a forked child whose exit (a pidfd) ends the loop run of a request. */
#include <criterion/criterion.h>
#include <grp.h>
#include <libgen.h>
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
#include "runtime.h"
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

typedef struct RawRequest {
        const char *socket_path;
        uid_t uid;
        gid_t gid;
        const char *req;
        size_t size;
} RawRequest;

/* The child of api_test_raw: sends the request and copies the reply to stdout. */
static int client_main(void *userdata)
{
        const RawRequest *q = userdata;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char buf[65536];
        ssize_t k;
        int fd;

        if (q->uid != (uid_t)-1 && (setgroups(0, NULL) < 0 || setgid(q->gid) < 0 || setuid(q->uid) < 0))
                return 2;
        strncpy(sa.sun_path, q->socket_path, sizeof(sa.sun_path) - 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return 3;
        write_all(fd, q->req, q->size);
        while ((k = read(fd, buf, sizeof(buf))) > 0)
                if (write(STDOUT_FILENO, buf, (size_t)k) != k)
                        return 4;
        return 0;
}

static int on_child_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        *(bool *)userdata = true;
        return 0;
}

static char *read_capture(int fd, size_t *ret_size)
{
        char *data;
        size_t size;

        cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
        cr_assert_eq(read_full_fd(fd, 64 * 1024 * 1024, &data, ret_size ? ret_size : &size), 0);
        return data;
}

void api_test_run(ApiTest *t, int (*fn)(void *userdata), void *userdata, ApiTestRun *ret)
{
        _cleanup_close_ int out = memfd_create("stdout", MFD_CLOEXEC),
                            err = memfd_create("stderr", MFD_CLOEXEC), pidfd = -EBADF;
        _cleanup_(sd_event_source_unrefp) sd_event_source *src = NULL;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + REQUEST_TIMEOUT_USEC;
        bool exited = false;
        int status;
        pid_t pid;

        *ret = (ApiTestRun){};
        cr_assert(out >= 0 && err >= 0);
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                int rc;
                if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
                        _exit(127);
                rc = fn(userdata);
                fflush(stdout);
                fflush(stderr);
                _exit(rc);
        }
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        cr_assert_geq(pidfd, 0);
        cr_assert_eq(sd_event_add_io(t->event, &src, pidfd, EPOLLIN, on_child_exit, &exited), 0);
        while (!exited && now_usec(CLOCK_MONOTONIC) < deadline)
                cr_assert_geq(sd_event_run(t->event, 100 * USEC_PER_MSEC), 0);
        if (!exited)
                kill(pid, SIGKILL);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(exited, "the child did not finish in time");
        ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        ret->out = read_capture(out, &ret->out_size);
        ret->err = read_capture(err, NULL);
}

void api_test_run_done(ApiTestRun *r)
{
        free(r->out);
        free(r->err);
        *r = (ApiTestRun){};
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
        RawRequest q = {.socket_path = t->socket_path, .uid = uid, .gid = gid, .req = req, .size = size};
        ApiTestRun run;

        *ret = (HttpReply){};
        api_test_run(t, client_main, &q, &run);
        cr_assert_eq(run.status, 0, "client failed: %d", run.status);
        free(run.err);
        parse_reply(run.out, run.out_size, ret);
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

int api_test_count_items(ApiTest *t, const char *path)
{
        HttpReply r;
        int n;

        api_test_request(t, "GET", path, NULL, &r);
        cr_assert_eq(r.code, 200, "GET %s: %.*s", path, (int)r.body_size, r.body);
        n = cJSON_GetArraySize(json_path(r.json, "items"));
        http_reply_done(&r);
        return n;
}

cJSON *api_test_store_pod(ApiTest *t, const char *const *containers, const int *restarts, size_t n)
{
        _cleanup_json_ cJSON *pod = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                                                "{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":"
                                                "{\"containers\":[]}}");
        _cleanup_json_ cJSON *status = cJSON_Parse("{\"phase\":\"Running\",\"containerStatuses\":[]}");
        cJSON *stored = NULL;

        for (size_t i = 0; i < n; i++) {
                cJSON *c = cJSON_CreateObject(), *st = cJSON_CreateObject();

                json_set_string(c, "name", containers[i]);
                json_set_string(c, "image", "busybox");
                cJSON_AddItemToArray(json_path(pod, "spec.containers"), c);
                json_set_string(st, "name", containers[i]);
                json_set_int(st, "restartCount", restarts[i]);
                cJSON_AddItemToArray(cJSON_GetObjectItem(status, "containerStatuses"), st);
        }
        cr_assert_eq(store_create(t->store, pod, NULL), 0);
        cr_assert_eq(store_update_status(t->store, "Pod", "default", "web", status), 0);
        cr_assert_eq(store_get(t->store, "Pod", "default", "web", &stored), 0);
        return stored;
}

void api_test_write_log(ApiTest *t, const cJSON *pod, const char *container, unsigned attempt,
                        const char *text)
{
        _cleanup_free_ char *path = NULL, *dir = NULL;

        cr_assert_eq(runtime_log_path(t->log_dir, "default", "web", json_str(pod, "metadata.uid"), container,
                                      attempt, &path),
                     0);
        dir = strdup(path);
        cr_assert_eq(mkdir_p(dirname(dir), 0755), 0);
        cr_assert_eq(write_file_atomic(path, text, strlen(text), 0644), 0);
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
