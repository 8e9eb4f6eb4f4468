/* tcpSocket probes (SEMANTICS.md 4.3): a non-blocking connect on the loop, bounded by a
 * CLOCK_MONOTONIC timer, with Go's net.Dial error texts. Sockets close with SO_LINGER 0 so
 * that a probe leaves no TIME_WAIT. The call is freed by this file right after its done
 * callback returns. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "probe-internal.h"

typedef union SocketAddress {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
} SocketAddress;

typedef struct TcpCall {
        ProbeCall call; /* first: probe_call_cancel() casts */
        probe_done_t done;
        void *userdata;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        sd_event_source *defer; /* reports an outcome known at start, from the loop */
        char *address;          /* "127.0.0.1:81", as Go names the peer */
        ProbeResult deferred;
        char *message;
        bool finishing; /* done runs: a cancel from inside it changes nothing */
} TcpCall;

static TcpCall *tcp_call_free(TcpCall *c)
{
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        sd_event_source_disable_unref(c->defer);
        safe_close(c->fd);
        free(c->address);
        free(c->message);
        return mfree(c);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(TcpCall *, tcp_call_free);

static void finish(TcpCall *c, ProbeResult result, char *message)
{
        /* closed before the callback: with SO_LINGER 0 this resets, no TIME_WAIT */
        c->fd = safe_close(c->fd);
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        free(c->message);
        c->message = message;
        c->finishing = true;
        c->done(&(ProbeOutcome){.result = result, .message = c->message}, c->userdata);
        tcp_call_free(c);
}

static void finish_connect_error(TcpCall *c, int err)
{
        char text[128];
        char *s = NULL;

        probe_errno_text(err, text, sizeof(text));
        if (asprintf_safe(&s, "dial tcp %s: connect: %s", c->address, text) < 0)
                finish(c, PROBE_ERROR, NULL);
        else
                finish(c, PROBE_FAILURE, s);
}

static int on_connected(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        TcpCall *c = userdata;
        socklen_t len = sizeof(int);
        int err = 0;

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err == 0 && !(revents & (EPOLLERR | EPOLLHUP)))
                finish(c, PROBE_SUCCESS, NULL);
        else
                finish_connect_error(c, err ?: ECONNRESET);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        TcpCall *c = userdata;
        char *m = NULL;

        if (asprintf_safe(&m, "dial tcp %s: i/o timeout", c->address) < 0)
                finish(c, PROBE_ERROR, NULL);
        else
                finish(c, PROBE_FAILURE, m);
        return 0;
}

static int on_deferred(sd_event_source *s, void *userdata)
{
        TcpCall *c = userdata;

        finish(c, c->deferred, TAKE_PTR(c->message));
        return 0;
}

static int defer_outcome(TcpCall *c, sd_event *e, ProbeResult result, char *message)
{
        int r;

        c->deferred = result;
        free(c->message);
        c->message = message;
        r = sd_event_add_defer(e, &c->defer, on_deferred, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->defer, "probe-tcp-result");
        return sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

static void tcp_cancel(ProbeCall *pc)
{
        TcpCall *c = (TcpCall *)pc;

        if (c->finishing)
                return; /* freed when its done callback returns */
        tcp_call_free(c);
}

/* Numeric addresses and "localhost" only: a name needs a resolver, and a blocking
 * getaddrinfo() has no place on the loop. Empty is the local system, as for Go's Dial. */
static int parse_address(const char *host, int port, SocketAddress *ret, socklen_t *ret_len)
{
        if (isempty(host) || streq(host, "localhost"))
                host = "127.0.0.1";
        *ret = (SocketAddress){};
        if (inet_pton(AF_INET, host, &ret->in.sin_addr) == 1) {
                ret->in.sin_family = AF_INET;
                ret->in.sin_port = htons((uint16_t)port);
                *ret_len = sizeof(ret->in);
                return 0;
        }
        if (inet_pton(AF_INET6, host, &ret->in6.sin6_addr) == 1) {
                ret->in6.sin6_family = AF_INET6;
                ret->in6.sin6_port = htons((uint16_t)port);
                *ret_len = sizeof(ret->in6);
                return 0;
        }
        return -EADDRNOTAVAIL;
}

/* "10.0.0.1:81" or "[::1]:81", the address in canonical form as Go prints it. */
static char *format_address(const SocketAddress *a)
{
        char ip[INET6_ADDRSTRLEN];
        char *s = NULL;
        int r;

        if (a->sa.sa_family == AF_INET6) {
                if (!inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip)))
                        return NULL;
                r = asprintf_safe(&s, "[%s]:%u", ip, ntohs(a->in6.sin6_port));
        } else {
                if (!inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof(ip)))
                        return NULL;
                r = asprintf_safe(&s, "%s:%u", ip, ntohs(a->in.sin_port));
        }
        return r < 0 ? NULL : s;
}

static int start_connect(TcpCall *c, sd_event *e, const SocketAddress *a, socklen_t len, usec_t timeout)
{
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        char text[128];
        char *m = NULL;
        int r;

        c->fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return negative_errno();
        if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
                return negative_errno();
        if (connect(c->fd, &a->sa, len) == 0)
                return defer_outcome(c, e, PROBE_SUCCESS, NULL);
        if (errno != EINPROGRESS) {
                probe_errno_text(errno, text, sizeof(text));
                if (asprintf_safe(&m, "dial tcp %s: connect: %s", c->address, text) < 0)
                        return -ENOMEM;
                return defer_outcome(c, e, PROBE_FAILURE, m);
        }
        r = sd_event_add_io(e, &c->io, c->fd, EPOLLOUT, on_connected, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->io, "probe-tcp-connect");
        if (timeout == 0)
                return 0; /* Go's DialTimeout with no timeout: the kernel's own */
        r = sd_event_add_time_relative(e, &c->timer, CLOCK_MONOTONIC, timeout, 1, on_timeout, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->timer, "probe-tcp-timeout");
        return 0;
}

int probe_tcp_start(sd_event *e, const ProbeHandler *h, usec_t timeout, probe_done_t done, void *userdata,
                    ProbeCall **ret)
{
        _cleanup_(tcp_call_freep) TcpCall *c = NULL;
        SocketAddress a;
        socklen_t len = 0;
        char *m = NULL;
        int r;

        if (!e || !h || !done || !ret)
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->call.cancel = tcp_cancel;
        c->fd = -EBADF;
        c->done = done;
        c->userdata = userdata;
        if (h->port_error) {
                /* the kubelet cannot resolve the port: an error, not a failure */
                m = strdup(h->port_error);
                if (!m)
                        return -ENOMEM;
                r = defer_outcome(c, e, PROBE_ERROR, m);
        } else if (parse_address(h->host, h->port, &a, &len) < 0) {
                if (asprintf_safe(&m,
                                  "dial tcp: lookup %s: host names are not resolved for tcpSocket probes",
                                  h->host) < 0)
                        return -ENOMEM;
                r = defer_outcome(c, e, PROBE_FAILURE, m);
        } else {
                c->address = format_address(&a);
                if (!c->address)
                        return -ENOMEM;
                r = start_connect(c, e, &a, len, timeout);
        }
        if (r < 0)
                return r;
        *ret = &TAKE_PTR(c)->call;
        return 0;
}
