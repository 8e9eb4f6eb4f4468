#include <criterion/criterion.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "api-test.h"
#include "berth-config.h"
#include "json-util.h"
#include "manifest.h"
#include "util.h"

API_TEST_SUITE(api);

Test(api, creates_the_socket_with_mode_0660)
{
        struct stat st;

        cr_assert_eq(stat(t.socket_path, &st), 0);
        cr_assert(S_ISSOCK(st.st_mode));
        cr_assert_eq(st.st_mode & 0777, 0660);
}

Test(api, removes_its_socket_when_freed)
{
        t.api = api_server_free(t.api);
        cr_assert_neq(access(t.socket_path, F_OK), 0);
}

Test(api, reports_its_version)
{
        HttpReply r;
        _cleanup_free_ char *ct = NULL;

        api_test_request(&t, "GET", "/version", NULL, &r);
        cr_assert_eq(r.code, 200);
        ct = http_reply_header(&r, "Content-Type");
        cr_assert_str_eq(ct, "application/json");
        cr_assert_str_eq(json_str(r.json, "major"), "1");
        cr_assert_str_eq(json_str(r.json, "gitVersion"), "v" BERTH_VERSION "-berth");
        cr_assert_str_eq(json_str(r.json, "platform"), "linux/amd64");
        http_reply_done(&r);
}

Test(api, answers_healthz_with_ok)
{
        HttpReply r;

        api_test_request(&t, "GET", "/healthz", NULL, &r);
        cr_assert_eq(r.code, 200);
        cr_assert_eq(r.body_size, 2);
        cr_assert(strneq(r.body, "ok", 2));
        http_reply_done(&r);
}

Test(api, counts_requests_by_code_in_metrics)
{
        HttpReply r;

        api_test_request(&t, "GET", "/healthz", NULL, &r);
        http_reply_done(&r);
        api_test_request(&t, "GET", "/nope", NULL, &r);
        http_reply_done(&r);
        api_test_request(&t, "GET", "/metrics", NULL, &r);
        cr_assert_eq(r.code, 200);
        cr_assert(strstr(r.body, "berth_api_requests_total{code=\"200\"} 1\n"), "%s", r.body);
        cr_assert(strstr(r.body, "berth_api_requests_total{code=\"404\"} 1\n"), "%s", r.body);
        http_reply_done(&r);
}

static int fake_metrics(void *userdata, char **ret)
{
        *ret = strdup("berth_pods 3");
        return *ret ? 0 : -ENOMEM;
}

Test(api, includes_the_agents_metrics)
{
        ApiHooks hooks = {.metrics = fake_metrics};
        HttpReply r;

        api_test_stop(&t);
        api_test_start_with(&t, false, &hooks);
        api_test_request(&t, "GET", "/metrics", NULL, &r);
        cr_assert_eq(r.code, 200);
        cr_assert(startswith(r.body, "berth_pods 3\n# HELP berth_api_requests_total"), "%s", r.body);
        http_reply_done(&r);
}

Test(api, rejects_bodies_over_the_limit_with_413)
{
        size_t n = MANIFEST_MAX_BYTES + 100;
        _cleanup_free_ char *req = NULL;
        HttpReply r;
        int h;

        req = malloc(n + 512);
        h = snprintf(req, 512,
                     "POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     n);
        memset(req + h, ' ', n);
        api_test_raw(&t, (uid_t)-1, (gid_t)-1, req, (size_t)h + n, &r);
        cr_assert_eq(r.code, 413);
        cr_assert_str_eq(json_str(r.json, "reason"), "RequestEntityTooLarge");
        cr_assert_str_eq(json_str(r.json, "message"), "Request entity too large: limit is 3145728");
        cr_assert_eq(json_int(r.json, "code", 0), 413);
        http_reply_done(&r);
}

Test(api, rejects_chunked_bodies_over_the_limit_with_413)
{
        size_t chunk = 1024 * 1024, n = 4;
        _cleanup_free_ char *req = malloc(n * (chunk + 32) + 512);
        char *p = req;
        HttpReply r;

        p += sprintf(p, "POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (size_t i = 0; i < n; i++) {
                p += sprintf(p, "%zx\r\n", chunk);
                memset(p, ' ', chunk);
                p += chunk;
                p += sprintf(p, "\r\n");
        }
        p += sprintf(p, "0\r\n\r\n");
        api_test_raw(&t, (uid_t)-1, (gid_t)-1, req, (size_t)(p - req), &r);
        cr_assert_eq(r.code, 413);
        cr_assert_str_eq(json_str(r.json, "reason"), "RequestEntityTooLarge");
        http_reply_done(&r);
}

Test(api, forbids_peers_that_are_neither_root_nor_in_the_group)
{
        HttpReply r;
        const char *req = "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        _cleanup_free_ char *want = NULL;

        if (geteuid() == 0) {
                /* the socket's mode would already stop nobody: open it to reach the peer check */
                cr_assert_eq(chmod(t.socket_path, 0666), 0);
                api_test_raw(&t, 65534, 65534, req, strlen(req), &r);
                cr_assert_gt(asprintf(&want, "forbidden: peer uid 65534 is neither root nor in group root"),
                             0);
        } else {
                api_test_stop(&t);
                api_test_start(&t, true);
                cr_assert_eq(chmod(t.socket_path, 0666), 0);
                api_test_raw(&t, (uid_t)-1, (gid_t)-1, req, strlen(req), &r);
                cr_assert_gt(asprintf(&want, "forbidden: peer uid %u is neither root nor in group root",
                                      (unsigned)geteuid()),
                             0);
        }
        cr_assert_eq(r.code, 403);
        cr_assert_str_eq(json_str(r.json, "kind"), "Status");
        cr_assert_str_eq(json_str(r.json, "reason"), "Forbidden");
        cr_assert_str_eq(json_str(r.json, "message"), want);
        http_reply_done(&r);
}

Test(api, serves_several_requests_on_one_connection)
{
        const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                          "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        HttpReply r;

        api_test_raw(&t, (uid_t)-1, (gid_t)-1, req, strlen(req), &r);
        cr_assert_eq(r.code, 200);
        /* the second reply follows the first body */
        cr_assert(strstr(r.body, "HTTP/1.1 200"), "%s", r.body);
        cr_assert(strstr(r.body, "gitVersion"), "%s", r.body);
        http_reply_done(&r);
}

Test(api, serves_an_inherited_listen_socket_and_leaves_it_open)
{
        _cleanup_free_ char *path = strjoin(t.dir, "/inherited.sock", NULL);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        ApiOptions opts = {.listen_fd = -1, .log_dir = t.log_dir, .socket_group = api_test_group()};
        ApiTest t2 = t;
        HttpReply r;
        int fd;

        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(fd, 0);
        cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        cr_assert_eq(listen(fd, 8), 0);
        opts.listen_fd = fd;
        cr_assert_eq(api_server_new(&t2.api, t.event, t.store, &opts, NULL), 0);
        t2.socket_path = path;
        api_test_request(&t2, "GET", "/healthz", NULL, &r);
        cr_assert_eq(r.code, 200);
        http_reply_done(&r);
        api_server_free(t2.api);
        /* the caller's fd and the file it bound are the caller's business */
        cr_assert_geq(fcntl(fd, F_GETFD), 0);
        cr_assert_eq(access(path, F_OK), 0);
        close(fd);
}
