/* libmicrohttpd on the agent's sd-event loop: a daemon started with MHD_USE_EPOLL (no thread
 * of its own) runs when its epoll fd is readable, and again at the deadline MHD_get_timeout()
 * gives. The API server and the metricsAddress listener both run this way. */
#pragma once

#include <microhttpd.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct MhdLoop MhdLoop;

/* Watches d on e; name is for the event sources' descriptions ("api-http"). -EIO when d has
 * no epoll fd. The daemon stays the caller's: free the MhdLoop before stopping it. */
int mhd_loop_attach(sd_event *e, struct MHD_Daemon *d, const char *name, MhdLoop **ret);
MhdLoop *mhd_loop_free(MhdLoop *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(MhdLoop *, mhd_loop_free);
