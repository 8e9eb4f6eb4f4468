/* The metricsAddress listener: GET /metrics over plain HTTP on a TCP address
 * ("127.0.0.1:10255"), served by libmicrohttpd inside the agent's sd-event loop, with the
 * text a callback renders for each scrape. */
#pragma once

#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct MetricsServer MetricsServer;

/* Renders the body of one scrape (malloc'd); 0 or a negative errno (the scrape gets 500). */
typedef int (*metrics_server_render_t)(void *userdata, char **ret);

/* Parses "HOST:PORT" (an IPv4 address, "[IPv6]", or nothing for every IPv4 address) into a
 * socket address. Port 0 picks a free port. -EINVAL for anything else. */
int metrics_server_parse_address(const char *address, struct sockaddr_storage *ret, socklen_t *ret_len);

/* Listens on address (see metrics_server_parse_address) and answers GET and HEAD /metrics
 * with render's text; 404 elsewhere, 405 for other methods. -EINVAL for a bad address,
 * -EADDRINUSE etc. when it cannot listen. */
int metrics_server_new(MetricsServer **ret, sd_event *e, const char *address, metrics_server_render_t render,
                       void *userdata);
/* Stops listening and closes every connection. */
MetricsServer *metrics_server_free(MetricsServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(MetricsServer *, metrics_server_free);
/* The port it listens on (the one picked for port 0). */
int metrics_server_port(const MetricsServer *s);
