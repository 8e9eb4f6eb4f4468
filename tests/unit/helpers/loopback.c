/* Test servers and sockets on 127.0.0.1: see loopback.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "loopback.h"
#include "macro.h"

int loopback_listen(int flags, int backlog, int *ret_port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

        cr_assert_geq(fd, 0);
        cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        cr_assert_eq(listen(fd, backlog), 0);
        if (ret_port)
                *ret_port = loopback_port(fd);
        return fd;
}

int loopback_port(int fd)
{
        struct sockaddr_in a;
        socklen_t len = sizeof(a);

        cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        return ntohs(a.sin_port);
}

int loopback_closed_port(void)
{
        int port, fd = loopback_listen(0, 1, &port);

        close(fd);
        return port;
}

int loopback_full_listener(int *ret_filler, int *ret_port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        /* the filler's close is a reset: it leaves no TIME_WAIT for the tests that count them */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        int fd = loopback_listen(0, 0, ret_port);

        a.sin_port = htons((uint16_t)*ret_port);
        *ret_filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(*ret_filler, 0);
        cr_assert_eq(setsockopt(*ret_filler, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
        cr_assert_eq(connect(*ret_filler, (struct sockaddr *)&a, sizeof(a)), 0);
        return fd;
}

int loopback_count_time_wait(int port)
{
        static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
        char line[512];
        int n = 0;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                FILE *f = fopen(files[i], "re");

                if (!f)
                        continue;
                while (fgets(line, sizeof(line), f)) {
                        char local[64], remote[64];
                        unsigned st;
                        const char *lp, *rp;

                        /* state 06 is TIME_WAIT */
                        if (sscanf(line, " %*d: %63s %63s %x", local, remote, &st) != 3 || st != 0x06)
                                continue;
                        lp = strrchr(local, ':');
                        rp = strrchr(remote, ':');
                        if ((lp && strtol(lp + 1, NULL, 16) == port) ||
                            (rp && strtol(rp + 1, NULL, 16) == port))
                                n++;
                }
                fclose(f);
        }
        return n;
}

bool loopback_send_all(int fd, const void *data, size_t size)
{
        const char *p = data;

        while (size > 0) {
                ssize_t k = send(fd, p, size, MSG_NOSIGNAL);

                if (k <= 0)
                        return false;
                p += k;
                size -= (size_t)k;
        }
        return true;
}

/* --- an HTTP/1.1 server in threads --- */

bool loopback_http_wait_readable(LoopbackHttp *s, int fd, int timeout_ms)
{
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};

        return poll(p, 2, timeout_ms) > 0 && !(p[1].revents & POLLIN) && p[0].revents;
}

/* Reads one request head, keeps it and has it answered. */
static void *serve_conn(void *userdata)
{
        LoopbackHttpConn *c = userdata;
        LoopbackHttp *s = c->server;
        char req[4096], path[256] = "";
        size_t n = 0;
        ssize_t k;

        req[0] = 0;
        while (n < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
                if (!loopback_http_wait_readable(s, c->fd, 5000))
                        goto out;
                k = read(c->fd, req + n, sizeof(req) - 1 - n);
                if (k <= 0)
                        goto out;
                n += (size_t)k;
                req[n] = 0;
        }
        pthread_mutex_lock(&s->lock);
        if (s->n_requests < ELEMENTSOF(s->requests) && !(s->requests[s->n_requests] = strdup(req)))
                abort();
        s->n_requests++;
        pthread_mutex_unlock(&s->lock);
        (void)sscanf(req, "GET %255s", path);
        /* after an answer, the client is the one to close (or the server stops) */
        if (s->answer(c, path))
                while (loopback_http_wait_readable(s, c->fd, 5000) && read(c->fd, req, sizeof(req)) > 0)
                        ;
out:
        close(c->fd);
        free(c);
        return NULL;
}

static void *serve(void *userdata)
{
        LoopbackHttp *s = userdata;

        while (loopback_http_wait_readable(s, s->fd, 20000)) {
                LoopbackHttpConn *c = calloc(1, sizeof(*c));

                if (!c)
                        abort();
                c->server = s;
                c->fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
                if (c->fd < 0) {
                        free(c);
                        continue;
                }
                pthread_mutex_lock(&s->lock);
                if (s->n_conns >= ELEMENTSOF(s->conns) ||
                    pthread_create(&s->conns[s->n_conns++], NULL, serve_conn, c) != 0)
                        abort();
                pthread_mutex_unlock(&s->lock);
        }
        return NULL;
}

void loopback_http_start(LoopbackHttp *s, loopback_http_answer_t answer)
{
        *s = (LoopbackHttp){.answer = answer};
        pthread_mutex_init(&s->lock, NULL);
        s->fd = loopback_listen(0, 64, &s->port);
        cr_assert_eq(pipe2(s->stop, O_CLOEXEC), 0);
        cr_assert_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

void loopback_http_stop(LoopbackHttp *s)
{
        if (s->stopped)
                return;
        s->stopped = true;
        cr_assert_eq(write(s->stop[1], "x", 1), 1);
        pthread_join(s->thread, NULL);
        for (size_t i = 0; i < s->n_conns; i++)
                pthread_join(s->conns[i], NULL);
        close(s->fd);
        close(s->stop[0]);
        close(s->stop[1]);
}

void loopback_http_free(LoopbackHttp *s)
{
        loopback_http_stop(s);
        for (size_t i = 0; i < MIN(s->n_requests, ELEMENTSOF(s->requests)); i++)
                free(s->requests[i]);
        pthread_mutex_destroy(&s->lock);
}

size_t loopback_http_n_requests(LoopbackHttp *s)
{
        size_t n;

        pthread_mutex_lock(&s->lock);
        n = s->n_requests;
        pthread_mutex_unlock(&s->lock);
        return n;
}

const char *loopback_http_request(LoopbackHttp *s, size_t i)
{
        const char *r;

        pthread_mutex_lock(&s->lock);
        r = i < MIN(s->n_requests, ELEMENTSOF(s->requests)) ? s->requests[i] : NULL;
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* --- a server on the test's own sd-event loop --- */

void loopback_conn_free(LoopbackConn *c)
{
        LoopbackServer *s = c->server;

        for (LoopbackConn **p = &s->conns; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        if (s->ops->on_close)
                s->ops->on_close(c);
        sd_event_source_disable_unref(c->source);
        close(c->fd);
        free(c);
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        LoopbackConn *c = userdata;
        const LoopbackServerOps *ops = c->server->ops;

        if (ops->on_io(c) < 0) {
                loopback_conn_free(c);
                return 0;
        }
        (void)sd_event_source_set_io_events(c->source, EPOLLIN | (ops->want_write(c) ? EPOLLOUT : 0));
        return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        LoopbackServer *s = userdata;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        LoopbackConn *c;

        if (cfd < 0)
                return 0;
        s->accepted++;
        cr_assert_geq(s->ops->conn_size, sizeof(LoopbackConn));
        c = calloc(1, s->ops->conn_size);
        cr_assert_not_null(c);
        *c = (LoopbackConn){.server = s, .fd = cfd, .next = s->conns};
        s->conns = c;
        s->ops->on_open(c);
        cr_assert_eq(sd_event_add_io(s->event, &c->source, cfd, EPOLLIN | EPOLLOUT, on_conn_io, c), 0);
        return 0;
}

void loopback_server_init(LoopbackServer *s, sd_event *e, const LoopbackServerOps *ops)
{
        *s = (LoopbackServer){.event = e, .ops = ops, .fd = -EBADF};
}

static void server_accept(LoopbackServer *s)
{
        cr_assert_eq(sd_event_add_io(s->event, &s->source, s->fd, EPOLLIN, on_accept, s), 0);
}

int loopback_server_listen(LoopbackServer *s)
{
        s->fd = loopback_listen(SOCK_NONBLOCK, 16, &s->port);
        server_accept(s);
        return s->port;
}

void loopback_server_listen_unix(LoopbackServer *s, const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        cr_assert_lt(strlen(path), sizeof(sa.sun_path));
        snprintf(s->unix_path, sizeof(s->unix_path), "%s", path);
        strcpy(sa.sun_path, path);
        unlink(path);
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        cr_assert_geq(s->fd, 0);
        cr_assert_eq(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        cr_assert_eq(listen(s->fd, 16), 0);
        server_accept(s);
}

void loopback_server_done(LoopbackServer *s)
{
        while (s->conns)
                loopback_conn_free(s->conns);
        s->source = sd_event_source_disable_unref(s->source);
        s->fd = safe_close(s->fd);
        if (s->unix_path[0])
                unlink(s->unix_path);
}
