/* libmicrohttpd on sd-event (see mhd-loop.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "log.h"
#include "mhd-loop.h"
#include "util.h"

struct MhdLoop {
        struct MHD_Daemon *mhd;
        sd_event_source *io;
        sd_event_source *timer;
        char *name;
};

/* Runs MHD once, then re-arms the timer for MHD's next deadline (or disables it). */
static int run(MhdLoop *l)
{
        MHD_UNSIGNED_LONG_LONG timeout_ms;
        int r;

        (void)MHD_run(l->mhd);
        if (MHD_get_timeout(l->mhd, &timeout_ms) != MHD_YES)
                return sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
        r = sd_event_source_set_time_relative(l->timer, (uint64_t)timeout_ms * USEC_PER_MSEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        MhdLoop *l = userdata;
        int r = run(l);

        if (r < 0)
                log_warning_errno(r, "%s: failed to re-arm the HTTP timer: %m", l->name);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        return on_io(s, -1, 0, userdata);
}

int mhd_loop_attach(sd_event *e, struct MHD_Daemon *d, const char *name, MhdLoop **ret)
{
        _cleanup_(mhd_loop_freep) MhdLoop *l = calloc(1, sizeof(MhdLoop));
        const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
        char desc[64];
        int r;

        if (!l)
                return -ENOMEM;
        if (!info || info->epoll_fd < 0)
                return -EIO;
        l->mhd = d;
        l->name = strdup(name);
        if (!l->name)
                return -ENOMEM;
        r = sd_event_add_io(e, &l->io, info->epoll_fd, EPOLLIN, on_io, l);
        if (r < 0)
                return r;
        snprintf(desc, sizeof(desc), "%s-io", name);
        (void)sd_event_source_set_description(l->io, desc);
        /* MHD often asks to run again at once (data left in its buffers): a coarse timer
         * would stall uploads and scrapes, so no coalescing */
        r = sd_event_add_time_relative(e, &l->timer, CLOCK_MONOTONIC, 0, 1, on_timer, l);
        if (r < 0)
                return r;
        snprintf(desc, sizeof(desc), "%s-timer", name);
        (void)sd_event_source_set_description(l->timer, desc);
        *ret = TAKE_PTR(l);
        return 0;
}

MhdLoop *mhd_loop_free(MhdLoop *l)
{
        if (!l)
                return NULL;
        sd_event_source_disable_unref(l->io);
        sd_event_source_disable_unref(l->timer);
        free(l->name);
        free(l);
        return NULL;
}
