/* The systemd backend's connection to the manager: opening it (private socket or message bus),
 * the Disconnected signal and the reconnect timer, and fire-and-forget manager calls counted
 * until answered so that freeing can wait for them. */
#include <stdarg.h>
#include <string.h>

#include "log.h"
#include "systemd-bus.h"
#include "util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEM_PRIVATE_SOCKET "/run/systemd/private"
#define RECONNECT_USEC USEC_PER_SEC
#define CALLS_DRAIN_USEC USEC_PER_SEC

struct SystemdBus {
        sd_event *event;
        char *endpoint;
        sd_bus *bus;
        bool lost; /* the connection is gone; closed and replaced from the timer */
        sd_bus_slot *disconnect_slot;
        sd_event_source *reconnect_timer;
        unsigned calls_pending;
        systemd_bus_connected_t connected;
        systemd_bus_lost_t on_lost;
        void *userdata;
};

/* "unix:path=" with the D-Bus escaping of a value */
static char *private_address(const char *path)
{
        size_t n = strlen(path);
        char *a = malloc(strlen("unix:path=") + 3 * n + 1), *p;

        if (!a)
                return NULL;
        p = stpcpy(a, "unix:path=");
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)path[i];
                if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    strchr("-_/.\\*", ch))
                        *p++ = (char)ch;
                else
                        p += sprintf(p, "%%%02x", ch);
        }
        *p = 0;
        return a;
}

static int bus_open(const char *endpoint, sd_bus **ret)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *address = NULL;
        int r;

        /* as systemctl does: root talks to the system manager directly, no dbus-daemon between */
        if (!endpoint && geteuid() == 0 && access(SYSTEM_PRIVATE_SOCKET, F_OK) == 0)
                endpoint = SYSTEM_PRIVATE_SOCKET;
        if (!endpoint)
                return sd_bus_open_system_with_description(ret, "berth-runtime-systemd");
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        address = endpoint[0] == '/' ? private_address(endpoint) : strdup(endpoint);
        if (!address)
                return -ENOMEM;
        r = sd_bus_set_address(bus, address);
        if (r >= 0 && endpoint[0] != '/')
                r = sd_bus_set_bus_client(bus, true);
        if (r >= 0)
                r = sd_bus_set_description(bus, "berth-runtime-systemd");
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

static void close_bus(SystemdBus *b)
{
        b->disconnect_slot = sd_bus_slot_unref(b->disconnect_slot);
        b->bus = sd_bus_flush_close_unref(b->bus);
        /* the answers of the old connection never come: their slots went with it */
        b->calls_pending = 0;
        b->lost = false;
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

static int connect_bus(SystemdBus *b)
{
        int r;

        r = bus_open(b->endpoint, &b->bus);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(b->bus, b->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_match_signal_async(b->bus, &b->disconnect_slot, NULL,
                                              "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                              "Disconnected", on_disconnected, NULL, b);
        if (r < 0) {
                close_bus(b);
                return r;
        }
        /* signals on a message bus only flow to subscribers (a private socket gets them anyway) */
        systemd_bus_call(b, "Subscribe", "");
        b->connected(b->bus, b->userdata);
        return 0;
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata)
{
        SystemdBus *b = userdata;
        int r;

        close_bus(b);
        r = connect_bus(b);
        if (r < 0) {
                log_debug_errno(r, "systemd: reconnecting to the manager failed, trying again: %m");
                (void)sd_event_source_set_time_relative(s, RECONNECT_USEC);
                return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        return 0;
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        SystemdBus *b = userdata;
        int r;

        log_debug("systemd: the connection to the manager was lost, reconnecting");
        /* the bus is closed from the timer, outside of its own dispatch */
        b->lost = true;
        b->on_lost(b->userdata);
        if (b->reconnect_timer) {
                r = sd_event_source_set_time_relative(b->reconnect_timer, RECONNECT_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(b->reconnect_timer, SD_EVENT_ONESHOT);
                return r;
        }
        r = sd_event_add_time_relative(b->event, &b->reconnect_timer, CLOCK_MONOTONIC, RECONNECT_USEC,
                                       10 * USEC_PER_MSEC, on_reconnect, b);
        if (r >= 0)
                (void)sd_event_source_set_description(b->reconnect_timer, "runtime-systemd-reconnect");
        return r;
}

int systemd_bus_new(SystemdBus **ret, sd_event *e, const char *endpoint, systemd_bus_connected_t connected,
                    systemd_bus_lost_t lost, void *userdata)
{
        SystemdBus *b;
        int r;

        if (!e || !connected || !lost)
                return -EINVAL;
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->event = sd_event_ref(e);
        b->connected = connected;
        b->on_lost = lost;
        b->userdata = userdata;
        b->endpoint = endpoint ? strdup(endpoint) : NULL;
        r = endpoint && !b->endpoint ? -ENOMEM : connect_bus(b);
        if (r < 0) {
                systemd_bus_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

static void drain_calls(SystemdBus *b)
{
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + CALLS_DRAIN_USEC;

        while (b->bus && !b->lost && b->calls_pending > 0) {
                usec_t now = now_usec(CLOCK_MONOTONIC);
                int r;

                if (now >= deadline)
                        break;
                r = sd_bus_process(b->bus, NULL);
                if (r < 0)
                        break;
                if (r == 0 && sd_bus_wait(b->bus, deadline - now) < 0)
                        break;
        }
}

SystemdBus *systemd_bus_free(SystemdBus *b)
{
        if (!b)
                return NULL;
        sd_event_source_disable_unref(b->reconnect_timer);
        /* nothing but the answers is dispatched meanwhile: the Disconnected match goes first */
        b->disconnect_slot = sd_bus_slot_unref(b->disconnect_slot);
        drain_calls(b);
        close_bus(b);
        sd_event_unref(b->event);
        free(b->endpoint);
        free(b);
        return NULL;
}

sd_bus *systemd_bus_get(SystemdBus *b)
{
        return b && !b->lost ? b->bus : NULL;
}

static int on_call_done(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        SystemdBus *b = userdata;

        if (b->calls_pending > 0)
                b->calls_pending--;
        if (sd_bus_message_is_method_error(m, NULL))
                log_debug("systemd: a call to the manager failed: %s", sd_bus_message_get_error(m)->message);
        return 0;
}

void systemd_bus_call(SystemdBus *b, const char *method, const char *types, ...)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus = systemd_bus_get(b);
        va_list ap;
        int r;

        if (!bus)
                return;
        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, method);
        if (r >= 0) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, m, on_call_done, b, 0);
        if (r < 0)
                log_debug_errno(r, "systemd: %s failed: %m", method);
        else
                b->calls_pending++;
}
