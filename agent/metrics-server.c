/* The metricsAddress listener: a TCP socket served by libmicrohttpd in external-epoll mode
 * on the agent's sd-event loop (MHD's epoll fd as an IO source plus a timer for
 * MHD_get_timeout, as the API server runs it), answering GET /metrics with the text of a
 * render callback. It has no credentials to check: bind it to loopback unless the metrics
 * are meant for the network. */
#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>

#include "log.h"
#include "metrics-server.h"
#include "mhd-loop.h"
#include "util.h"

#define METRICS_CONNECTION_LIMIT 16
#define METRICS_CONNECTION_MEMORY_LIMIT (32 * 1024)
#define METRICS_CONNECTION_TIMEOUT_SEC 30
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct MetricsServer {
        sd_event *event;
        struct MHD_Daemon *mhd;
        MhdLoop *loop;
        metrics_server_render_t render;
        void *userdata;
        int port;
};

static int parse_port(const char *s, uint16_t *ret)
{
        unsigned long p;
        char *end;

        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        p = strtoul(s, &end, 10);
        if (errno != 0 || *end || p > 65535)
                return -EINVAL;
        *ret = (uint16_t)p;
        return 0;
}

int metrics_server_parse_address(const char *address, struct sockaddr_storage *ret, socklen_t *ret_len)
{
        _cleanup_free_ char *host = NULL;
        const char *port_s, *sep;
        uint16_t port;
        int r;

        if (isempty(address))
                return -EINVAL;
        if (address[0] == '[') {
                sep = strchr(address, ']');
                if (!sep || sep[1] != ':')
                        return -EINVAL;
                host = strndup(address + 1, sep - address - 1);
                port_s = sep + 2;
        } else {
                sep = strchr(address, ':');
                /* an IPv6 address needs its brackets */
                if (!sep || strchr(sep + 1, ':'))
                        return -EINVAL;
                host = strndup(address, sep - address);
                port_s = sep + 1;
        }
        if (!host)
                return -ENOMEM;
        r = parse_port(port_s, &port);
        if (r < 0)
                return r;
        memset(ret, 0, sizeof(*ret));
        if (address[0] == '[') {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret;

                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
                        return -EINVAL;
                *ret_len = sizeof(*in6);
        } else {
                struct sockaddr_in *in = (struct sockaddr_in *)ret;

                in->sin_family = AF_INET;
                in->sin_port = htons(port);
                if (streq(host, "localhost"))
                        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                else if (!isempty(host) && inet_pton(AF_INET, host, &in->sin_addr) != 1)
                        return -EINVAL;
                *ret_len = sizeof(*in);
        }
        return 0;
}

static int listen_tcp(const char *address, int *ret_fd, int *ret_port)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_storage sa, bound;
        socklen_t len, blen = sizeof(bound);
        int one = 1, r;

        r = metrics_server_parse_address(address, &sa, &len);
        if (r < 0)
                return r;
        fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        /* a restarted agent must get its port back while old connections linger */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return negative_errno();
        if (sa.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
                return negative_errno();
        if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, SOMAXCONN) < 0 ||
            getsockname(fd, (struct sockaddr *)&bound, &blen) < 0)
                return negative_errno();
        *ret_port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                      : ((struct sockaddr_in *)&bound)->sin_port);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *content_type,
                             char *body, size_t size, const char *allow)
{
        struct MHD_Response *resp = MHD_create_response_from_buffer(size, body, MHD_RESPMEM_MUST_FREE);
        enum MHD_Result ret;

        if (!resp) {
                free(body);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        if (allow)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        ret = MHD_queue_response(conn, code, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned code, const char *text,
                                  const char *allow)
{
        char *body = strdup(text);

        if (!body)
                return MHD_NO;
        return reply(conn, code, "text/plain; charset=utf-8", body, strlen(body), allow);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
        static int started;
        MetricsServer *s = cls;
        char *text = NULL;
        int r;

        /* answer once the request, body included, has been read */
        if (!*con_cls) {
                *con_cls = &started;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD))
                return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");
        if (!streq(url, "/metrics"))
                return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", NULL);
        r = s->render(s->userdata, &text);
        if (r < 0) {
                log_debug_errno(r, "metrics: rendering failed: %m");
                return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "failed to render the metrics\n",
                                  NULL);
        }
        return reply(conn, MHD_HTTP_OK, METRICS_CONTENT_TYPE, text, strlen(text), NULL);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) >= 0)
                log_debug("metrics: libmicrohttpd: %s", msg);
}

static int start_daemon(MetricsServer *s, int listen_fd)
{
        s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_access, s,
                                  MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_EXTERNAL_LOGGER,
                                  on_mhd_log, s, MHD_OPTION_CONNECTION_LIMIT,
                                  (unsigned)METRICS_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                  (size_t)METRICS_CONNECTION_MEMORY_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
                                  (unsigned)METRICS_CONNECTION_TIMEOUT_SEC, MHD_OPTION_END);
        if (!s->mhd) {
                safe_close(listen_fd);
                return -EIO;
        }
        return mhd_loop_attach(s->event, s->mhd, "metrics-http", &s->loop);
}

int metrics_server_new(MetricsServer **ret, sd_event *e, const char *address, metrics_server_render_t render,
                       void *userdata)
{
        _cleanup_(metrics_server_freep) MetricsServer *s = NULL;
        int fd = -EBADF, r;

        if (!ret || !e || !render)
                return -EINVAL;
        s = calloc(1, sizeof(MetricsServer));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->render = render;
        s->userdata = userdata;
        r = listen_tcp(address, &fd, &s->port);
        if (r < 0)
                return r;
        r = start_daemon(s, fd);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

MetricsServer *metrics_server_free(MetricsServer *s)
{
        if (!s)
                return NULL;
        mhd_loop_free(s->loop);
        if (s->mhd)
                MHD_stop_daemon(s->mhd);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

int metrics_server_port(const MetricsServer *s)
{
        return s->port;
}
