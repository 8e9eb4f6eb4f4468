/* The systemd backend: a container is a transient service, started and watched
 * (PropertiesChanged, JobRemoved) with asynchronous calls on the agent's loop; what a unit
 * cannot hold (config, exit once seen, on_exit called) is kept in the host backend's file
 * formats under <state_dir>/systemd/units/<id>/. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>

#include "host-cgroup.h"
#include "host-config.h"
#include "host-log.h"
#include "log.h"
#include "runtime-host.h"
#include "runtime-systemd.h"
#include "systemd-bus.h"
#include "systemd-journal.h"
#include "systemd-unit.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT_PATH "/org/freedesktop/systemd1/unit"
#define KILL_REPEAT_USEC (500 * USEC_PER_MSEC)
#define LOST_EXIT_CODE 137
#define LOST_REASON "ContainerStatusUnknown"
#define CGROUP_FILE "cgroup" /* the unit's ControlGroup, once it ran: execs need it at once */

typedef struct SdContainer {
        RuntimeSystemd *rs;
        char *dir, *unit, *path; /* state directory, unit name, the unit's object path */
        RuntimeContainer info;
        HostConfig *cfg;
        HostCgroup *cg; /* the unit's cgroups while it runs, for execs */
        HostLog *log;   /* the CRI log the journal is copied into, opened on the first line */
        int main_pidfd;
        SystemdStartJob start_job;
        bool starting;      /* StartTransientUnit sent, no answer yet */
        bool refresh_again; /* a change came while a refresh was out */
        bool stop_requested;
        sd_bus_slot *match_slot, *start_slot, *refresh_slot;
        sd_event_source *kill_timer, *report_source;
} SdContainer;

struct RuntimeSystemd {
        Runtime *owner;
        sd_event *event;
        SystemdBus *bus;
        sd_bus_slot *job_slot;
        SystemdJournal *journal;
        char *endpoint, *units_dir, *prefix, *ident_prefix, *slice, *log_namespace, *sleep_path,
            *setpriv_path;
        bool cpu_v1;
        SdContainer **containers;
        size_t n;
        RuntimeExec *execs; /* in flight */
};

static void refresh(SdContainer *c);

static void drop_slots(SdContainer *c)
{
        c->match_slot = sd_bus_slot_unref(c->match_slot);
        c->start_slot = sd_bus_slot_unref(c->start_slot);
        c->refresh_slot = sd_bus_slot_unref(c->refresh_slot);
}

static void close_log(SdContainer *c)
{
        if (!c->log)
                return;
        /* an unfinished line is kept as a partial one: its rest follows as a line of its own */
        (void)host_log_finish(c->log, HOST_LOG_STDOUT);
        c->log = host_log_free(c->log);
}

static SdContainer *container_free(SdContainer *c)
{
        if (!c)
                return NULL;
        drop_slots(c);
        sd_event_source_disable_unref(c->kill_timer);
        sd_event_source_disable_unref(c->report_source);
        close_log(c);
        safe_close(c->main_pidfd);
        host_cgroup_free(c->cg);
        host_config_free(c->cfg);
        runtime_container_done(&c->info);
        free(c->dir);
        free(c->unit);
        free(c->path);
        free(c);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(SdContainer *, container_free);

static SdContainer *find(RuntimeSystemd *rs, const char *id, size_t *ret_idx)
{
        for (size_t i = 0; i < rs->n; i++)
                if (streq(rs->containers[i]->info.id, id)) {
                        if (ret_idx)
                                *ret_idx = i;
                        return rs->containers[i];
                }
        return NULL;
}

static SdContainer *find_unit(RuntimeSystemd *rs, const char *unit)
{
        for (size_t i = 0; i < rs->n; i++)
                if (streq(rs->containers[i]->unit, unit))
                        return rs->containers[i];
        return NULL;
}

/* --- calls to the manager --- */

static void kill_unit(SdContainer *c, const char *whom, int sig)
{
        systemd_bus_call(c->rs->bus, "KillUnit", "ssi", c->unit, whom, (int32_t)sig);
}

/* --- exits and reports --- */

static int on_report(sd_event_source *s, void *userdata);

static int schedule_report(SdContainer *c)
{
        int r;

        if (c->report_source)
                return 0;
        r = sd_event_add_defer(c->rs->event, &c->report_source, on_report, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->report_source, "runtime-systemd-report");
        return sd_event_source_set_enabled(c->report_source, SD_EVENT_ONESHOT);
}

static int on_report(sd_event_source *s, void *userdata)
{
        SdContainer *c = userdata;
        RuntimeSystemd *rs = c->rs;
        Runtime *owner = rs->owner;
        _cleanup_free_ char *marker = strjoin(c->dir, "/exit-reported", NULL);
        char id[SYSTEMD_UNIT_NAME_MAX + 1];

        c->report_source = sd_event_source_disable_unref(c->report_source);
        /* the container's last lines, as far as journald has them, are in its log by now; a
         * straggler opens the log again */
        systemd_journal_flush(rs->journal);
        close_log(c);
        if (marker) {
                int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                safe_close(fd);
        }
        /* the callback may remove the container: touch nothing of it afterwards */
        snprintf(id, sizeof(id), "%s", c->info.id);
        host_exec_kill_container(rs->execs, id);
        if (owner->on_exit)
                owner->on_exit(owner, id, owner->userdata);
        return 0;
}

static bool reported(SdContainer *c)
{
        _cleanup_free_ char *marker = strjoin(c->dir, "/exit-reported", NULL);

        return marker && access(marker, F_OK) == 0;
}

static void apply_exit(SdContainer *c, HostExit *e)
{
        c->info.state = CONTAINER_EXITED;
        c->info.pid = 0;
        c->info.exit_code = e->exit_code;
        c->info.finished_at = e->finished_at > 0 ? e->finished_at : now_usec(CLOCK_REALTIME);
        free(c->info.reason);
        free(c->info.message);
        c->info.reason = TAKE_PTR(e->reason);
        c->info.message = TAKE_PTR(e->message);
        c->main_pidfd = safe_close(c->main_pidfd);
        c->kill_timer = sd_event_source_disable_unref(c->kill_timer);
}

/* Records the exit (exit.json first: a unit can be collected, the file stays) and reports it. */
static void record_exit(SdContainer *c, HostExit *e)
{
        if (e->finished_at == 0)
                e->finished_at = now_usec(CLOCK_REALTIME);
        if (host_exit_write(c->dir, e) < 0)
                log_debug("systemd: cannot record the exit of %s", c->unit);
        apply_exit(c, e);
        host_exit_done(e);
        (void)schedule_report(c);
}

/* An end nobody saw (the unit is gone), as the kubelet records lost containers. */
static void record_lost(SdContainer *c, const char *message)
{
        HostExit e = {
            .exit_code = LOST_EXIT_CODE, .reason = strdup(LOST_REASON), .message = strdup(message)};

        record_exit(c, &e);
}

/* --- the unit's state --- */

/* A pidfd for pid if it still is the process that started at start_time (0: unchecked). */
static int open_verified(pid_t pid, uint64_t start_time)
{
        uint64_t t;

        if (pid <= 0)
                return -ESRCH;
        int fd = pidfd_open(pid, 0);
        if (fd < 0)
                return negative_errno();
        if (start_time != 0 && (host_proc_start_time(pid, &t) < 0 || t != start_time)) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

/* What an exec needs of a running unit: its main process and its cgroups. */
static void attach_running(SdContainer *c, const char *control_group, uint64_t pid_start)
{
        if (c->main_pidfd < 0)
                c->main_pidfd = open_verified(c->info.pid, pid_start);
        if (!c->cg && control_group && systemd_unit_cgroup(control_group, &c->cg) < 0)
                c->cg = NULL;
}

/* CREATED -> RUNNING: recorded (state.json, the cgroup) for a restarted agent. True when the
 * caller is to call on_start. */
static bool set_running(SdContainer *c, const SystemdUnitState *s)
{
        _cleanup_free_ char *cgfile = strjoin(c->dir, "/" CGROUP_FILE, NULL);
        bool was_created = c->info.state == CONTAINER_CREATED;
        HostState st = {};

        c->info.state = CONTAINER_RUNNING;
        c->info.pid = (pid_t)s->main_pid;
        if (c->info.started_at == 0)
                c->info.started_at = s->exec_main_start > 0 ? s->exec_main_start : now_usec(CLOCK_REALTIME);
        c->start_job = SYSTEMD_START_JOB_DONE;
        st = (HostState){.pid = c->info.pid, .started_at = c->info.started_at};
        (void)host_proc_start_time(st.pid, &st.pid_start);
        attach_running(c, s->control_group, st.pid_start);
        if (was_created) {
                if (host_state_write(c->dir, &st) < 0)
                        log_debug("systemd: cannot record that %s runs", c->unit);
                if (cgfile && s->control_group)
                        (void)write_file_replace(cgfile, s->control_group, strlen(s->control_group), 0600);
        }
        return was_created;
}

/* How the unit ended, recorded. True when the command ran unseen (it ended before it was seen
 * running): the caller is to call on_start, as for any command that ran. */
static bool set_exited(SdContainer *c, const SystemdUnitState *s)
{
        bool unseen = c->info.state == CONTAINER_CREATED;
        HostExit e = {};
        int r;

        if (c->info.started_at == 0 && s->exec_main_start > 0) {
                HostState st = {.started_at = s->exec_main_start};
                c->info.started_at = s->exec_main_start;
                (void)host_state_write(c->dir, &st);
        }
        r = systemd_unit_exit(s, c->start_job, c->stop_requested, c->cfg->argv[0], c->unit, &e);
        if (r < 0) {
                record_lost(c, "out of memory while reading how the unit ended");
                return false;
        }
        unseen = unseen && c->info.started_at > 0 && !streq_ptr(e.reason, "StartError");
        /* RemainAfterExit keeps what the command left behind running: the kubelet's
         * container ends with its main process */
        if (streq(s->active_state, "active"))
                kill_unit(c, "all", SIGKILL);
        record_exit(c, &e);
        return unseen;
}

/* Takes the unit's state in. True when the caller is to call on_start. */
static bool apply_state(SdContainer *c, const SystemdUnitState *s)
{
        if (c->info.state == CONTAINER_EXITED)
                return false;
        switch (systemd_unit_phase(s)) {
        case SYSTEMD_UNIT_GONE:
                /* not yet made: the answer to StartTransientUnit will say */
                if (!c->starting)
                        record_lost(c, "the container's unit is gone (stopped and collected, or its manager "
                                       "restarted) without its exit being seen");
                return false;
        case SYSTEMD_UNIT_RUNNING:
                return s->main_pid > 0 ? set_running(c, s) : false;
        case SYSTEMD_UNIT_EXITED:
                return set_exited(c, s);
        case SYSTEMD_UNIT_STARTING:
        case SYSTEMD_UNIT_STOPPING:
        default:
                return false;
        }
}

static int on_refresh(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        SdContainer *c = userdata;
        SystemdUnitState s = {};
        Runtime *owner = c->rs->owner;
        char id[SYSTEMD_UNIT_NAME_MAX + 1];
        bool started = false;

        c->refresh_slot = sd_bus_slot_unref(c->refresh_slot);
        if (sd_bus_message_is_method_error(m, NULL))
                log_debug("systemd: reading the properties of %s failed: %s", c->unit,
                          sd_bus_message_get_error(m)->message);
        else if (systemd_unit_state_read(m, &s) < 0)
                log_debug("systemd: malformed properties of %s", c->unit);
        else {
                started = apply_state(c, &s);
                systemd_unit_state_done(&s);
        }
        if (c->refresh_again) {
                c->refresh_again = false;
                refresh(c);
        }
        /* last: the callback may do anything with the container but remove it (it runs) */
        snprintf(id, sizeof(id), "%s", c->info.id);
        if (started && owner->on_start)
                owner->on_start(owner, id, owner->start_userdata);
        return 0;
}

/* Reads the unit's properties (GetAll with an empty interface: Unit and Service at once); a
 * change while a read is out is read again after it. */
static void refresh(SdContainer *c)
{
        sd_bus *bus = systemd_bus_get(c->rs->bus);
        int r;

        if (c->info.state == CONTAINER_EXITED)
                return;
        if (c->refresh_slot || !bus) {
                c->refresh_again = true;
                return;
        }
        r = sd_bus_call_method_async(bus, &c->refresh_slot, SD_DEST, c->path,
                                     "org.freedesktop.DBus.Properties", "GetAll", on_refresh, c, "s", "");
        if (r < 0) {
                log_debug_errno(r, "systemd: cannot read the properties of %s: %m", c->unit);
                c->refresh_again = true;
        }
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        refresh(userdata);
        return 0;
}

static int watch_unit(SdContainer *c, sd_bus *bus)
{
        if (!bus || c->match_slot)
                return 0;
        /* no sender: on a manager's private socket messages carry none */
        return sd_bus_match_signal_async(bus, &c->match_slot, NULL, c->path,
                                         "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                         on_properties_changed, NULL, c);
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RuntimeSystemd *rs = userdata;
        const char *job, *unit, *result;
        uint32_t jid;
        SdContainer *c;

        if (sd_bus_message_read(m, "uoss", &jid, &job, &unit, &result) < 0)
                return 0;
        c = find_unit(rs, unit);
        if (!c)
                return 0;
        /* Type=exec: the start job is done once the command was exec'd, failed when it could
         * not be (or the wait for start_at failed) */
        if (c->info.state == CONTAINER_CREATED && c->start_job == SYSTEMD_START_JOB_UNKNOWN)
                c->start_job = streq(result, "done") ? SYSTEMD_START_JOB_DONE : SYSTEMD_START_JOB_FAILED;
        refresh(c);
        return 0;
}

/* --- the connection --- */

/* The connection is lost: whether a unit was made or changed is for the next read to tell. */
static void on_bus_lost(void *userdata)
{
        RuntimeSystemd *rs = userdata;

        for (size_t i = 0; i < rs->n; i++) {
                SdContainer *c = rs->containers[i];
                if (c->start_slot || c->refresh_slot)
                        c->refresh_again = true;
                c->starting = false;
                drop_slots(c);
        }
        rs->job_slot = sd_bus_slot_unref(rs->job_slot);
}

static void on_bus_connected(sd_bus *bus, void *userdata)
{
        RuntimeSystemd *rs = userdata;
        int r;

        r = sd_bus_match_signal_async(bus, &rs->job_slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved",
                                      on_job_removed, NULL, rs);
        if (r < 0)
                log_debug_errno(r, "systemd: cannot watch the manager's jobs: %m");
        /* again: the manager may have been re-executed meanwhile */
        for (size_t i = 0; i < rs->n; i++) {
                SdContainer *c = rs->containers[i];
                if (c->info.state == CONTAINER_EXITED)
                        continue;
                (void)watch_unit(c, bus);
                c->refresh_again = false;
                refresh(c);
        }
}

/* --- containers on disk --- */

static int set_str(char **dst, const char *s)
{
        free(*dst);
        *dst = s ? strdup(s) : NULL;
        return !s || *dst ? 0 : -ENOMEM;
}

static int container_new(RuntimeSystemd *rs, const char *id, HostConfig *cfg, SdContainer **ret)
{
        _cleanup_(container_freep) SdContainer *c = calloc(1, sizeof(SdContainer));
        RuntimeContainer *i;

        if (!c) {
                host_config_free(cfg);
                return -ENOMEM;
        }
        c->rs = rs;
        c->cfg = cfg;
        c->main_pidfd = -EBADF;
        c->dir = strjoin(rs->units_dir, "/", id, NULL);
        c->unit = strjoin(id, ".service", NULL);
        if (!c->dir || !c->unit || sd_bus_path_encode(SD_UNIT_PATH, c->unit, &c->path) < 0)
                return -ENOMEM;
        i = &c->info;
        if (set_str(&i->id, id) < 0 || set_str(&i->pod_uid, cfg->pod_uid) < 0 ||
            set_str(&i->pod_name, cfg->pod_name) < 0 || set_str(&i->pod_namespace, cfg->pod_namespace) < 0 ||
            set_str(&i->container_name, cfg->container_name) < 0 || set_str(&i->image, cfg->image) < 0 ||
            set_str(&i->log_path, cfg->log_path) < 0)
                return -ENOMEM;
        i->attempt = cfg->attempt;
        i->created_at = cfg->created_at;
        i->state = CONTAINER_CREATED;
        *ret = TAKE_PTR(c);
        return 0;
}

/* What the files say of a container found after a restart; its unit is asked next. */
static void adopt(SdContainer *c)
{
        HostExit e = {};
        HostState st = {};
        _cleanup_free_ char *cgfile = strjoin(c->dir, "/" CGROUP_FILE, NULL), *cg = NULL;

        if (host_state_load(c->dir, &st) >= 0)
                c->info.started_at = st.started_at;
        if (host_exit_load(c->dir, &e) >= 0) {
                apply_exit(c, &e);
                host_exit_done(&e);
                if (!reported(c))
                        (void)schedule_report(c);
                return;
        }
        if (st.pid > 0) {
                c->info.state = CONTAINER_RUNNING;
                c->info.pid = st.pid;
                c->start_job = SYSTEMD_START_JOB_DONE;
                if (cgfile)
                        (void)read_one_line_file(cgfile, &cg);
                attach_running(c, cg, st.pid_start);
        }
}

static int add_container(RuntimeSystemd *rs, SdContainer *c)
{
        SdContainer **n = realloc(rs->containers, (rs->n + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        rs->containers = n;
        rs->containers[rs->n++] = c;
        return 0;
}

static int scan(RuntimeSystemd *rs)
{
        DIR *d = opendir(rs->units_dir);

        if (!d)
                return negative_errno();
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *dir = NULL;
                HostConfig *cfg = NULL;
                SdContainer *c = NULL;
                int r;

                if (de->d_name[0] == '.' || find(rs, de->d_name, NULL))
                        continue;
                dir = strjoin(rs->units_dir, "/", de->d_name, NULL);
                if (!dir) {
                        closedir(d);
                        return -ENOMEM;
                }
                r = host_config_load(dir, &cfg);
                if (r >= 0 && !streq(cfg->id, de->d_name))
                        r = -EBADMSG;
                if (r >= 0)
                        r = container_new(rs, de->d_name, TAKE_PTR(cfg), &c);
                host_config_free(cfg);
                if (r < 0) {
                        log_debug_errno(r, "systemd: skipping container directory %s: %m", de->d_name);
                        continue;
                }
                adopt(c);
                if (add_container(rs, c) < 0) {
                        container_free(c);
                        closedir(d);
                        return -ENOMEM;
                }
                (void)watch_unit(c, systemd_bus_get(rs->bus));
                refresh(c);
        }
        closedir(d);
        return 0;
}

/* The journal's entries of a unit (its identifier is the container id) go to its CRI log. */
static HostLog *route_log(const char *identifier, void *userdata)
{
        SdContainer *c = find(userdata, identifier, NULL);
        int r;

        if (!c || !c->cfg->log_path)
                return NULL;
        if (!c->log) {
                r = host_log_new(&c->log, c->cfg->log_path, c->cfg->log_max_size, c->cfg->log_max_files);
                if (r < 0) {
                        log_debug_errno(r, "systemd: cannot open the log %s: %m", c->cfg->log_path);
                        return NULL;
                }
        }
        return c->log;
}

static const char *first_executable(const char *a, const char *b)
{
        return access(a, X_OK) == 0 ? a : access(b, X_OK) == 0 ? b : NULL;
}

static int setup_options(RuntimeSystemd *rs, const RuntimeOptions *opts)
{
        const char *endpoint = opts->endpoint ? opts->endpoint : getenv("BERTH_SYSTEMD_BUS");
        const char *ns = opts->log_namespace ? opts->log_namespace : getenv("BERTH_SYSTEMD_LOG_NAMESPACE");
        const char *sleep_path = first_executable("/usr/bin/sleep", "/bin/sleep");
        const char *setpriv_path = first_executable("/usr/bin/setpriv", "/bin/setpriv");

        rs->prefix = strdup(opts->cgroup_name ? opts->cgroup_name : "berth");
        if (!rs->prefix)
                return -ENOMEM;
        if (!systemd_unit_prefix_valid(rs->prefix))
                return -EINVAL;
        rs->slice = strjoin(rs->prefix, ".slice", NULL);
        rs->ident_prefix = strjoin(rs->prefix, "-", NULL);
        rs->units_dir = strjoin(opts->state_dir, "/systemd/units", NULL);
        if (!rs->slice || !rs->ident_prefix || !rs->units_dir ||
            set_str(&rs->endpoint, isempty(endpoint) ? NULL : endpoint) < 0 ||
            set_str(&rs->log_namespace, isempty(ns) ? NULL : ns) < 0 ||
            set_str(&rs->sleep_path, sleep_path) < 0 || set_str(&rs->setpriv_path, setpriv_path) < 0)
                return -ENOMEM;
        rs->cpu_v1 = systemd_unit_cpu_v1();
        return 0;
}

int runtime_systemd_new(RuntimeSystemd **ret, Runtime *owner, sd_event *e, const RuntimeOptions *opts)
{
        RuntimeSystemd *rs;
        _cleanup_free_ char *cursor = NULL;
        int r;

        if (isempty(opts->state_dir))
                return -EINVAL;
        rs = calloc(1, sizeof(*rs));
        if (!rs)
                return -ENOMEM;
        rs->owner = owner;
        rs->event = sd_event_ref(e);
        r = setup_options(rs, opts);
        if (r >= 0)
                r = mkdir_p(rs->units_dir, 0700);
        if (r >= 0)
                r = systemd_bus_new(&rs->bus, e, rs->endpoint, on_bus_connected, on_bus_lost, rs);
        if (r >= 0) {
                cursor = strjoin(opts->state_dir, "/systemd/journal-cursor", NULL);
                r = cursor ? systemd_journal_new(&rs->journal, e, rs->log_namespace, rs->ident_prefix,
                                                 cursor, route_log, rs)
                           : -ENOMEM;
                /* without the journal the containers run, and their logs stay empty */
                if (r < 0 && r != -ENOMEM) {
                        log_debug_errno(r, "systemd: cannot follow the journal, logs stay empty: %m");
                        r = 0;
                }
        }
        if (r >= 0)
                r = scan(rs);
        if (r < 0) {
                runtime_systemd_free(rs);
                return r;
        }
        *ret = rs;
        return 0;
}

RuntimeSystemd *runtime_systemd_free(RuntimeSystemd *rs)
{
        if (!rs)
                return NULL;
        host_exec_cancel_all(&rs->execs);
        /* the journal routes into the containers' logs: gone before they are */
        rs->journal = systemd_journal_free(rs->journal);
        for (size_t i = 0; i < rs->n; i++)
                container_free(rs->containers[i]);
        rs->containers = mfree(rs->containers);
        rs->n = 0;
        /* what was sent (a stop's kill, a removal) still reaches the manager; with the
         * containers' and the runtime's matches gone, nothing else is dispatched meanwhile */
        rs->job_slot = sd_bus_slot_unref(rs->job_slot);
        rs->bus = systemd_bus_free(rs->bus);
        sd_event_unref(rs->event);
        free(rs->endpoint);
        free(rs->units_dir);
        free(rs->prefix);
        free(rs->ident_prefix);
        free(rs->slice);
        free(rs->log_namespace);
        free(rs->sleep_path);
        free(rs->setpriv_path);
        free(rs);
        return NULL;
}

/* --- the interface --- */

static int on_started(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        SdContainer *c = userdata;
        const sd_bus_error *e;
        HostExit x = {.exit_code = 128};

        c->start_slot = sd_bus_slot_unref(c->start_slot);
        c->starting = false;
        if (!sd_bus_message_is_method_error(m, NULL)) {
                refresh(c);
                return 0;
        }
        e = sd_bus_message_get_error(m);
        /* no answer (the connection went, or the manager hangs): the unit's state will tell */
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) || !systemd_bus_get(c->rs->bus)) {
                refresh(c);
                return 0;
        }
        x.reason = strdup("StartError");
        if (asprintf_safe(&x.message, "systemd refused the unit %s: %s", c->unit, e->message) < 0)
                x.message = NULL;
        record_exit(c, &x);
        return 0;
}

static int build_start(RuntimeSystemd *rs, const HostConfig *cfg, const RuntimeContainerConfig *rc,
                       const char *id, const char *unit, sd_bus_message **ret)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        SystemdUnitParams p = {
            .identifier = id,
            .slice = rs->slice,
            .log_namespace = rs->log_namespace,
            .stop_timeout = rc->stop_timeout,
            .now = now_usec(CLOCK_REALTIME),
            .sleep_path = rs->sleep_path,
            .setpriv_path = systemd_unit_identity_known(cfg) ? NULL : rs->setpriv_path,
            .cpu_v1 = rs->cpu_v1,
        };
        int r;

        if (!systemd_bus_get(rs->bus))
                return -ENOTCONN;
        r = sd_bus_message_new_method_call(systemd_bus_get(rs->bus), &m, SD_DEST, SD_PATH, SD_MANAGER,
                                           "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = systemd_unit_append_properties(m, cfg, &p);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int runtime_systemd_start(RuntimeSystemd *rs, const RuntimeContainerConfig *cfg, char **ret_id)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *unit = NULL, *id = NULL, *json = NULL, *dir = NULL, *path = NULL;
        HostConfig *hc = NULL;
        SdContainer *c = NULL;
        int r;

        if (!cfg->argv || isempty(cfg->argv[0]))
                return -EINVAL;
        r = systemd_unit_name(rs->prefix, cfg->pod_uid, cfg->container_name, cfg->attempt, &unit);
        if (r < 0)
                return r;
        id = strndup(unit, strlen(unit) - strlen(".service"));
        if (!id)
                return -ENOMEM;
        if (find(rs, id, NULL))
                return -EEXIST;
        /* the config as the host backend records it, read back: one form for a start and an
         * adoption, checked once */
        r = host_config_format(cfg, id, rs->prefix, now_usec(CLOCK_REALTIME), &json);
        if (r >= 0)
                r = host_config_parse(json, &hc);
        if (r < 0)
                return r;
        r = build_start(rs, hc, cfg, id, unit, &m);
        if (r < 0) {
                host_config_free(hc);
                return r;
        }
        dir = strjoin(rs->units_dir, "/", id, NULL);
        path = strjoin(rs->units_dir, "/", id, "/config.json", NULL);
        if (!dir || !path) {
                host_config_free(hc);
                return -ENOMEM;
        }
        if (mkdir(dir, 0700) < 0) {
                host_config_free(hc);
                return errno == EEXIST ? -EEXIST : negative_errno();
        }
        r = write_file_atomic(path, json, strlen(json), 0600);
        if (r >= 0)
                r = container_new(rs, id, hc, &c);
        else
                host_config_free(hc);
        if (r >= 0 && (r = add_container(rs, c)) < 0)
                container_free(c);
        if (r < 0) {
                (void)rm_rf(dir);
                return r;
        }
        (void)watch_unit(c, systemd_bus_get(rs->bus));
        c->starting = true;
        r = sd_bus_call_async(systemd_bus_get(rs->bus), &c->start_slot, m, on_started, c, 0);
        if (r < 0) {
                /* from here on a failure is the container's: it ends as a start error */
                c->starting = false;
                HostExit x = {.exit_code = 128, .reason = strdup("StartError")};
                (void)asprintf_safe(&x.message, "sending the unit %s to systemd failed: %s", unit,
                                    strerror(-r));
                record_exit(c, &x);
        }
        *ret_id = TAKE_PTR(id);
        return 0;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        SdContainer *c = userdata;

        /* the grace is over: SIGKILL to the whole cgroup, again until the exit is seen (a
         * unit whose start is still on its way is caught by a later round) */
        kill_unit(c, "all", SIGKILL);
        (void)sd_event_source_set_time_relative(s, KILL_REPEAT_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

int runtime_systemd_stop(RuntimeSystemd *rs, const char *id, usec_t grace)
{
        SdContainer *c = find(rs, id, NULL);
        usec_t when;
        int r;

        if (!c)
                return -ENOENT;
        if (c->info.state == CONTAINER_EXITED)
                return 0;
        c->stop_requested = true;
        /* KillMode=mixed's first step by hand: the grace is the caller's, not TimeoutStopSec
         * (fixed when the unit was made), and a unit that is not stopped stays inspectable */
        if (grace > 0 && c->info.state == CONTAINER_RUNNING)
                kill_unit(c, "main", SIGTERM);
        else {
                kill_unit(c, "all", SIGKILL);
                grace = KILL_REPEAT_USEC;
        }
        when = now_usec(CLOCK_MONOTONIC) + grace;
        if (c->kill_timer) {
                uint64_t cur;
                if (sd_event_source_get_time(c->kill_timer, &cur) >= 0 && cur < when &&
                    sd_event_source_get_enabled(c->kill_timer, NULL) > 0)
                        return 0; /* an earlier kill is already due */
                r = sd_event_source_set_time(c->kill_timer, when);
                if (r < 0)
                        return r;
                return sd_event_source_set_enabled(c->kill_timer, SD_EVENT_ONESHOT);
        }
        r = sd_event_add_time(rs->event, &c->kill_timer, CLOCK_MONOTONIC, when, 10 * USEC_PER_MSEC,
                              on_kill_timer, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->kill_timer, "runtime-systemd-kill");
        return 0;
}

int runtime_systemd_remove(RuntimeSystemd *rs, const char *id)
{
        size_t idx;
        SdContainer *c = find(rs, id, &idx);
        int r;

        if (!c)
                return -ENOENT;
        if (c->info.state != CONTAINER_EXITED)
                return -EBUSY;
        /* an "active (exited)" unit is stopped, a failed one reset: either way collected */
        systemd_bus_call(rs->bus, "StopUnit", "ss", c->unit, "replace");
        systemd_bus_call(rs->bus, "ResetFailedUnit", "s", c->unit);
        r = rm_rf(c->dir);
        if (r < 0)
                return r;
        memmove(rs->containers + idx, rs->containers + idx + 1, (rs->n - idx - 1) * sizeof(*rs->containers));
        rs->n--;
        container_free(c);
        return 0;
}

int runtime_systemd_status(RuntimeSystemd *rs, const char *id, RuntimeContainer *ret)
{
        SdContainer *c = find(rs, id, NULL);

        if (!c)
                return -ENOENT;
        return runtime_container_copy(&c->info, ret);
}

static const RuntimeContainer *info_at(void *userdata, size_t i)
{
        RuntimeSystemd *rs = userdata;

        return &rs->containers[i]->info;
}

int runtime_systemd_list(RuntimeSystemd *rs, RuntimeContainer **ret, size_t *ret_n)
{
        return runtime_container_list_copy(rs->n, info_at, rs, ret, ret_n);
}

int runtime_systemd_exec(RuntimeSystemd *rs, const char *id, char *const *argv, usec_t timeout,
                         size_t max_output, runtime_exec_done_t done, void *userdata, RuntimeExec **ret)
{
        SdContainer *c = find(rs, id, NULL);

        if (!c)
                return -ENOENT;
        if (c->info.state != CONTAINER_RUNNING)
                return -ESRCH;
        /* never outside the unit's cgroup: what runs there is stopped with it */
        if (!c->cg)
                return -EOPNOTSUPP;
        HostExecTarget t = {.event = rs->event,
                            .id = c->info.id,
                            .cfg = c->cfg,
                            .cg = c->cg,
                            .main_pidfd = c->main_pidfd,
                            .execs = &rs->execs};
        return host_exec_start(&t, argv, timeout, max_output, done, userdata, ret);
}
