/* The journal follower of the systemd backend: sd_journal on the loop (inotify, and a tick for
 * what inotify misses and for saving the cursor), entries copied in batches, each MESSAGE fed
 * to a CRI log as one line ("_LINE_BREAK=" marks lines journald cut), as SYSLOG_IDENTIFIER says. */
#include <string.h>
#include <systemd/sd-journal.h>

#include "systemd-journal.h"
#include "util.h"

#define BATCH_MAX 1000
#define FLUSH_MAX 100000
#define TICK_USEC USEC_PER_SEC
#define CURSOR_MAX 4096

struct SystemdJournal {
        sd_event *event;
        sd_journal *journal;
        sd_event_source *io, *tick, *more;
        char *cursor_path;
        char *cursor; /* of the last entry copied, not yet saved when dirty */
        char *prefix; /* of the identifiers of ours */
        size_t prefix_len;
        bool dirty;
        systemd_journal_route_t route;
        void *userdata;
};

static void save_cursor(SystemdJournal *j)
{
        if (!j->dirty || !j->cursor)
                return;
        /* a crash may repeat what was copied since the last save, never skip it */
        if (write_file_replace(j->cursor_path, j->cursor, strlen(j->cursor), 0600) >= 0)
                j->dirty = false;
}

SystemdJournal *systemd_journal_free(SystemdJournal *j)
{
        if (!j)
                return NULL;
        save_cursor(j);
        sd_event_source_disable_unref(j->io);
        sd_event_source_disable_unref(j->tick);
        sd_event_source_disable_unref(j->more);
        sd_journal_close(j->journal);
        sd_event_unref(j->event);
        free(j->cursor_path);
        free(j->cursor);
        free(j->prefix);
        free(j);
        return NULL;
}

/* The value of field in the current entry, without the "FIELD=" prefix. */
static int field(sd_journal *jr, const char *name, const char **ret, size_t *ret_size)
{
        const void *d;
        size_t l, n = strlen(name);
        int r = sd_journal_get_data(jr, name, &d, &l);

        if (r < 0)
                return r;
        if (l <= n || ((const char *)d)[n] != '=')
                return -EBADMSG;
        *ret = (const char *)d + n + 1;
        *ret_size = l - n - 1;
        return 0;
}

/* SYSLOG_IDENTIFIER comes from the stream's header; _SYSTEMD_UNIT comes from the writer's
 * cgroup, and a short-lived child of the command (`id`, `cat`) is often gone before journald
 * looks, which leaves its lines without one. */
static void copy_entry(SystemdJournal *j)
{
        const char *ident, *msg, *lb;
        size_t ident_len, msg_len, lb_len;
        char name[256];
        HostLog *log;

        if (field(j->journal, "SYSLOG_IDENTIFIER", &ident, &ident_len) < 0 || ident_len >= sizeof(name) ||
            ident_len <= j->prefix_len || memcmp(ident, j->prefix, j->prefix_len) != 0)
                return;
        memcpy(name, ident, ident_len);
        name[ident_len] = 0;
        log = j->route(name, j->userdata);
        if (!log || field(j->journal, "MESSAGE", &msg, &msg_len) < 0)
                return;
        /* a failed write (disk full) must not stop the copy: the line is dropped */
        (void)host_log_feed(log, HOST_LOG_STDOUT, msg, msg_len);
        if (field(j->journal, "_LINE_BREAK", &lb, &lb_len) < 0)
                (void)host_log_feed(log, HOST_LOG_STDOUT, "\n", 1);
        else if (lb_len == 3 && memcmp(lb, "eof", 3) == 0)
                /* the stream ended without a newline: a partial line, as containerd writes it */
                (void)host_log_finish(log, HOST_LOG_STDOUT);
        else if (!(lb_len == 8 && memcmp(lb, "line-max", 8) == 0))
                (void)host_log_feed(log, HOST_LOG_STDOUT, "\n", 1);
        /* line-max: the line goes on in the next entry */
}

/* Copies up to max entries; true when there may be more. */
static bool copy(SystemdJournal *j, size_t max)
{
        size_t n = 0;
        bool more = true;

        while (n < max) {
                int r = sd_journal_next(j->journal);
                if (r <= 0) {
                        more = false;
                        break;
                }
                copy_entry(j);
                n++;
        }
        if (n > 0) {
                char *c = NULL;
                if (sd_journal_get_cursor(j->journal, &c) >= 0) {
                        free(j->cursor);
                        j->cursor = c;
                        j->dirty = true;
                }
        }
        return more;
}

static int on_more(sd_event_source *s, void *userdata)
{
        SystemdJournal *j = userdata;

        if (copy(j, BATCH_MAX))
                return sd_event_source_set_enabled(j->more, SD_EVENT_ONESHOT);
        return 0;
}

static void process(SystemdJournal *j)
{
        (void)sd_journal_process(j->journal);
        if (copy(j, BATCH_MAX))
                (void)sd_event_source_set_enabled(j->more, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        process(userdata);
        return 0;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        SystemdJournal *j = userdata;
        int r;

        r = sd_event_source_set_time_relative(s, TICK_USEC);
        if (r < 0)
                return r;
        process(j);
        save_cursor(j);
        return 0;
}

void systemd_journal_flush(SystemdJournal *j)
{
        if (!j)
                return;
        (void)sd_journal_process(j->journal);
        (void)copy(j, FLUSH_MAX);
}

/* After the saved cursor; without one (or a cursor that no longer resolves, rotated away),
 * after the newest entry: older output is not ours to copy. */
static int seek(SystemdJournal *j)
{
        _cleanup_free_ char *cursor = NULL;

        if (read_full_file(j->cursor_path, CURSOR_MAX, &cursor, NULL) >= 0 && !isempty(cursor) &&
            sd_journal_seek_cursor(j->journal, cursor) >= 0) {
                /* seek_cursor lands on the entry or, when it is gone, on the next one: only the
                 * cursor's own entry was copied already */
                if (sd_journal_next(j->journal) > 0 && sd_journal_test_cursor(j->journal, cursor) <= 0)
                        (void)sd_journal_previous(j->journal);
                j->cursor = TAKE_PTR(cursor);
                return 0;
        }
        int r = sd_journal_seek_tail(j->journal);
        if (r < 0)
                return r;
        if (sd_journal_previous(j->journal) > 0)
                return 0;
        /* nothing yet: from the head, since a next() from the tail would jump
         * to the newest entry once there are some (sd-journal before 254) */
        return sd_journal_seek_head(j->journal);
}

static int watch(SystemdJournal *j)
{
        int fd, events, r;

        fd = sd_journal_get_fd(j->journal);
        if (fd < 0)
                return fd;
        events = sd_journal_get_events(j->journal);
        if (events < 0)
                return events;
        r = sd_event_add_io(j->event, &j->io, fd, (uint32_t)events, on_io, j);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(j->io, "runtime-systemd-journal");
        r = sd_event_add_time_relative(j->event, &j->tick, CLOCK_MONOTONIC, TICK_USEC, 10 * USEC_PER_MSEC,
                                       on_tick, j);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(j->tick, "runtime-systemd-journal-tick");
        r = sd_event_source_set_enabled(j->tick, SD_EVENT_ON);
        if (r < 0)
                return r;
        r = sd_event_add_defer(j->event, &j->more, on_more, j);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(j->more, "runtime-systemd-journal-more");
        /* at once: what came while the agent was away */
        return sd_event_source_set_enabled(j->more, SD_EVENT_ONESHOT);
}

int systemd_journal_new(SystemdJournal **ret, sd_event *e, const char *log_namespace, const char *prefix,
                        const char *cursor_path, systemd_journal_route_t route, void *userdata)
{
        _cleanup_(systemd_journal_freep) SystemdJournal *j = NULL;
        int r;

        if (!e || isempty(prefix) || isempty(cursor_path) || !route)
                return -EINVAL;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->event = sd_event_ref(e);
        j->route = route;
        j->userdata = userdata;
        j->cursor_path = strdup(cursor_path);
        j->prefix = strdup(prefix);
        if (!j->cursor_path || !j->prefix)
                return -ENOMEM;
        j->prefix_len = strlen(prefix);
        r = log_namespace ? sd_journal_open_namespace(&j->journal, log_namespace, SD_JOURNAL_LOCAL_ONLY)
                          : sd_journal_open(&j->journal, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;
        /* a line is at most journald's LineMax: never cut a field short */
        r = sd_journal_set_data_threshold(j->journal, 0);
        /* units' output only; the identifier sorts it further */
        if (r >= 0)
                r = sd_journal_add_match(j->journal, "_TRANSPORT=stdout", 0);
        if (r >= 0)
                r = seek(j);
        if (r >= 0)
                r = watch(j);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(j);
        return 0;
}
