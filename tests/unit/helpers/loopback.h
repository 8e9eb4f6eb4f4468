/* Test servers and sockets on 127.0.0.1 for the unit tests of several modules: listening,
 * refusing and never-accepting ports, a count of TIME_WAIT sockets, an HTTP/1.1 server in
 * threads (one per connection, so that a hanging answer holds up no other), and the accept
 * and connection bookkeeping of servers that run on the test's own sd-event loop. Failures
 * of the test's own setup are criterion assertions. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

/* A listening TCP socket on 127.0.0.1 with an ephemeral port; flags as for socket(2)
 * (SOCK_NONBLOCK), SOCK_CLOEXEC always. ret_port may be NULL. */
int loopback_listen(int flags, int backlog, int *ret_port);
/* The local port of a bound socket. */
int loopback_port(int fd);
/* A port of 127.0.0.1 that was ours a moment ago and that nobody listens on now. */
int loopback_closed_port(void);
/* A listener whose accept queue is full (listen(fd, 0) takes one connection, which
 * *ret_filler fills): the kernel drops further SYNs, so a connect neither succeeds nor fails.
 * The caller closes both. */
int loopback_full_listener(int *ret_filler, int *ret_port);
/* Sockets in TIME_WAIT with port at either end, from /proc/net/tcp{,6}. */
int loopback_count_time_wait(int port);
/* send(2) until all of data is out; false on any error. */
bool loopback_send_all(int fd, const void *data, size_t size);

/* --- an HTTP/1.1 server in threads --- */

typedef struct LoopbackHttp LoopbackHttp;

typedef struct LoopbackHttpConn {
        LoopbackHttp *server;
        int fd;
} LoopbackHttpConn;

/* Answers the request for path on c (in c's thread): true leaves it to the client to close
 * the connection, false hangs up at once. */
typedef bool (*loopback_http_answer_t)(LoopbackHttpConn *c, const char *path);

struct LoopbackHttp {
        int fd;
        int port;
        int stop[2];
        bool stopped;
        loopback_http_answer_t answer;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_t conns[64];
        size_t n_conns;
        char *requests[64]; /* each request's head, in arrival order */
        size_t n_requests;  /* all requests, kept or not */
};

void loopback_http_start(LoopbackHttp *s, loopback_http_answer_t answer);
/* Stops accepting and waits for every connection's thread: afterwards the server has closed
 * all its sockets. A second call does nothing. */
void loopback_http_stop(LoopbackHttp *s);
/* Stops the server if it still runs and frees what it kept. */
void loopback_http_free(LoopbackHttp *s);
size_t loopback_http_n_requests(LoopbackHttp *s);
/* The head of the i-th request, NULL when it has not arrived (or was not kept). */
const char *loopback_http_request(LoopbackHttp *s, size_t i);
/* Waits for fd to be readable; false when the server stops or after timeout_ms. */
bool loopback_http_wait_readable(LoopbackHttp *s, int fd, int timeout_ms);

/* --- a server on the test's own sd-event loop --- */

typedef struct LoopbackServer LoopbackServer;
typedef struct LoopbackConn LoopbackConn;

/* The protocol of a LoopbackServer. Its connection struct starts with a LoopbackConn and
 * is conn_size long; the server allocates it zeroed. */
typedef struct LoopbackServerOps {
        size_t conn_size;
        void (*on_open)(LoopbackConn *c); /* accepted: set up, queue what the server says first */
        int (*on_io)(LoopbackConn *c);    /* readable or writable; < 0 closes the connection */
        bool (*want_write)(LoopbackConn *c);
        void (*on_close)(LoopbackConn *c); /* may be NULL; frees what on_open set up */
} LoopbackServerOps;

struct LoopbackConn {
        LoopbackServer *server;
        int fd;
        sd_event_source *source;
        LoopbackConn *next;
};

struct LoopbackServer {
        sd_event *event;
        const LoopbackServerOps *ops;
        int fd;
        int port;
        sd_event_source *source;
        LoopbackConn *conns;
        unsigned accepted;
        char unix_path[108];
};

void loopback_server_init(LoopbackServer *s, sd_event *e, const LoopbackServerOps *ops);
/* Listens on 127.0.0.1 with an ephemeral port and accepts on the loop; returns the port. */
int loopback_server_listen(LoopbackServer *s);
/* Listens on a unix socket at path (replacing a stale one) instead; removed again by
 * loopback_server_done(). */
void loopback_server_listen_unix(LoopbackServer *s, const char *path);
void loopback_conn_free(LoopbackConn *c);
/* Closes every connection and the listener. */
void loopback_server_done(LoopbackServer *s);
