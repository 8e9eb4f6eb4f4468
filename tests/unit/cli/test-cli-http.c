#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cli-internal.h"
#include "json-util.h"

/* A one-shot fake agent: accepts one connection, records the request, sends a reply. */
typedef struct Fake {
        char dir[64];
        char path[128];
        int fd;
        const char *reply;
        char request[4096];
        pthread_t thread;
} Fake;

static void *serve(void *userdata)
{
        Fake *f = userdata;
        int c = accept(f->fd, NULL, NULL);
        size_t n = 0;

        if (c < 0)
                return NULL;
        while (n < sizeof(f->request) - 1) {
                ssize_t k = read(c, f->request + n, sizeof(f->request) - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t)k;
                f->request[n] = 0;
                char *end = strstr(f->request, "\r\n\r\n");
                char *cl = strcasestr(f->request, "Content-Length:");
                if (end && (!cl || strlen(end + 4) >= strtoul(cl + 15, NULL, 10)))
                        break;
        }
        (void)!write(c, f->reply, strlen(f->reply));
        close(c);
        return NULL;
}

static void fake_start(Fake *f, const char *reply)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        strcpy(f->dir, "/tmp/cli-http-XXXXXX");
        cr_assert_not_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/api.sock", f->dir);
        strcpy(sa.sun_path, f->path);
        f->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(f->fd, 0);
        cr_assert_eq(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        cr_assert_eq(listen(f->fd, 1), 0);
        f->reply = reply;
        f->request[0] = 0;
        cr_assert_eq(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void fake_stop(Fake *f)
{
        pthread_join(f->thread, NULL);
        close(f->fd);
        unlink(f->path);
        rmdir(f->dir);
}

Test(cli_http, sends_the_request_and_collects_status_body_and_headers)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        CliResponse r;
        Fake f;

        fake_start(&f, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Berth-Log-Offset: 42\r\n"
                       "Content-Length: 6\r\nConnection: close\r\n\r\nhello\n");
        cr_assert_eq(cli_http_new(&h, f.path), 0);
        cr_assert_eq(
            cli_http_request(h, "POST", "/apis/berth.dev/v1/apply?dryRun=All", "{\"kind\":\"List\"}", &r),
            0);
        fake_stop(&f);
        cr_assert_eq(r.status, 200);
        cr_assert_eq(r.size, 6);
        cr_assert_str_eq(r.body, "hello\n");
        cr_assert_str_eq(r.log_offset, "42");
        cr_assert(startswith(f.request, "POST /apis/berth.dev/v1/apply?dryRun=All HTTP/1.1\r\n"));
        cr_assert_not_null(strstr(f.request, "\r\n\r\n{\"kind\":\"List\"}"));
        cli_response_done(&r);
}

Test(cli_http, prints_warning_headers_on_stderr, .init = cr_redirect_stderr)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        CliResponse r;
        Fake f;

        fake_start(&f, "HTTP/1.1 201 Created\r\nWarning: 299 - \"unknown field \\\"spec.foo\\\"\"\r\n"
                       "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
        cr_assert_eq(cli_http_new(&h, f.path), 0);
        cr_assert_eq(cli_http_request(h, "GET", "/api/v1/pods", NULL, &r), 0);
        fake_stop(&f);
        cr_assert_eq(r.status, 201);
        cr_assert_eq(r.n_warnings, 1);
        cli_response_done(&r);
        fflush(stderr);
        cr_assert_stderr_eq_str("Warning: unknown field \"spec.foo\"\n");
}

Test(cli_http, reports_an_unreachable_agent_in_one_line, .init = cr_redirect_stderr)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        CliResponse r;

        cr_assert_eq(cli_http_new(&h, "/tmp/cli-http-does-not-exist.sock"), 0);
        cr_assert_lt(cli_http_request(h, "GET", "/version", NULL, &r), 0);
        fflush(stderr);
        cr_assert_stderr_eq_str("error: cannot reach the berth agent at /tmp/cli-http-does-not-exist.sock: "
                                "No such file or directory\n");
}

Test(cli_http, formats_status_errors_like_kubectl)
{
        CliResponse r = {.status = 404};
        _cleanup_free_ char *m1 = NULL, *m2 = NULL, *m3 = NULL;

        r.body = (char *)"{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\","
                         "\"message\":\"pods \\\"x\\\" not found\",\"code\":404}";
        r.size = strlen(r.body);
        m1 = cli_http_error_message(&r);
        cr_assert_str_eq(m1, "Error from server (NotFound): pods \"x\" not found");
        r.body = (char *)"{\"message\":\"boom\"}";
        r.size = strlen(r.body);
        m2 = cli_http_error_message(&r);
        cr_assert_str_eq(m2, "Error from server: boom");
        r.status = 502;
        r.body = (char *)"not json\nmore";
        r.size = strlen(r.body);
        m3 = cli_http_error_message(&r);
        cr_assert_str_eq(m3, "error: the server responded with status 502: not json");
}

Test(cli_http, builds_kubernetes_rest_paths)
{
        static const KindInfo pod = {"Pod", "v1", "", "pods", "pod", "po", true};
        static const KindInfo job = {"Job", "batch/v1", "batch", "jobs", "job", NULL, true};
        static const KindInfo node = {"Node", "v1", "", "nodes", "node", "no", false};
        _cleanup_free_ char *a = cli_http_path(&pod, "default", "web"), *b = cli_http_path(&pod, NULL, NULL);
        _cleanup_free_ char *c = cli_http_path(&job, "prod", NULL),
                            *d = cli_http_path(&node, "default", "n1");
        _cleanup_free_ char *e = cli_http_escape("app in (a,b),x!=y");

        cr_assert_str_eq(a, "/api/v1/namespaces/default/pods/web");
        cr_assert_str_eq(b, "/api/v1/pods");
        cr_assert_str_eq(c, "/apis/batch/v1/namespaces/prod/jobs");
        cr_assert_str_eq(d, "/api/v1/nodes/n1");
        cr_assert_str_eq(e, "app%20in%20%28a%2Cb%29%2Cx%21%3Dy");
}
