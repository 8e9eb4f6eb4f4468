/* Internal: the systemd backend's units as data, with no bus I/O: their names, the properties
 * of StartTransientUnit built from a container's config (and what of the host shapes them),
 * the properties read back with GetAll, and what those mean for the container's state, exit
 * code and reason. */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "host-cgroup.h"
#include "host-config.h"
#include "runtime.h"

#define SYSTEMD_UNIT_NAME_MAX 255
#define SYSTEMD_UNIT_DEFAULT_STOP_TIMEOUT_USEC (30 * USEC_PER_SEC)

/* A name prefix (and slice name) made only of [A-Za-z0-9_.:-], not starting with "-" or
 * ".", short enough to leave room for the rest of a unit name. */
bool systemd_unit_prefix_valid(const char *prefix);
/* "<prefix>-<pod uid>-<container>-<attempt>.service", each component escaped as systemd does
 * ("\xNN" for a byte outside [A-Za-z0-9_.:-]; a NULL or empty pod uid is "none").
 * -EINVAL for an invalid prefix or an empty container name, -ENAMETOOLONG beyond
 * SYSTEMD_UNIT_NAME_MAX. */
int systemd_unit_name(const char *prefix, const char *pod_uid, const char *container, unsigned attempt,
                      char **ret);

/* systemd's User=, Group= and SupplementaryGroups= take only ids the user database knows:
 * false when one of cfg's is not (a pod's runAsUser often is not), for setpriv to set them. */
bool systemd_unit_identity_known(const HostConfig *cfg);
/* The cpu controller is a cgroup v1 one (CPUShares= then, not CPUWeight=). */
bool systemd_unit_cpu_v1(void);
/* The unit's cgroup (ControlGroup=, "/berth.slice/x.service") in every hierarchy below
 * /sys/fs/cgroup where systemd made it (on v1 hosts not every controller has one;
 * name=systemd and the unified one always do), for an exec to join. -ENOENT when none. */
int systemd_unit_cgroup(const char *control_group, HostCgroup **ret);

/* What shapes the unit besides the container's config. */
typedef struct SystemdUnitParams {
        /* SyslogIdentifier= (the container id): every line of the unit's output carries it,
         * also those of children gone before journald could read their cgroup */
        const char *identifier;
        const char *slice;
        const char *log_namespace; /* NULL: the system journal */
        usec_t stop_timeout;       /* 0: SYSTEMD_UNIT_DEFAULT_STOP_TIMEOUT_USEC */
        usec_t now;                /* CLOCK_REALTIME, against cfg->start_at */
        /* the sleep(1) that delays the command until cfg->start_at (ExecStartPre=); NULL:
         * start at once */
        const char *sleep_path;
        /* setpriv(1), for a uid, gid or group the user database does not know (User= needs
         * one it knows); NULL: User=, Group=, SupplementaryGroups= */
        const char *setpriv_path;
        bool cpu_v1; /* the cpu controller is cgroup v1: CPUShares= (kubelet's shares) */
} SystemdUnitParams;

/* Appends the a(sv) properties of StartTransientUnit for cfg (the message is positioned
 * after the name and mode). -EINVAL for a config that cannot be expressed (no argv, a mount
 * without both paths). */
int systemd_unit_append_properties(sd_bus_message *m, const HostConfig *cfg, const SystemdUnitParams *p);

/* The properties of a unit that the backend reads (GetAll with an empty interface: Unit
 * and Service at once). */
typedef struct SystemdUnitState {
        char load_state[32], active_state[32], sub_state[32], result[32];
        uint32_t job_id;          /* a job pending, 0 none */
        uint32_t main_pid;        /* 0 when none */
        uint64_t exec_main_start; /* CLOCK_REALTIME usec when the command was forked; 0 never */
        uint64_t exec_main_exit;  /* ... when it ended; 0 not yet */
        int32_t exec_main_code;   /* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
        int32_t exec_main_status; /* exit status or signal */
        char *control_group;      /* "/berth.slice/x.service" or NULL */
} SystemdUnitState;

/* Reads a GetAll reply (a{sv}); unknown properties are skipped. -EBADMSG when malformed. */
int systemd_unit_state_read(sd_bus_message *reply, SystemdUnitState *ret);
void systemd_unit_state_done(SystemdUnitState *s);

typedef enum SystemdUnitPhase {
        SYSTEMD_UNIT_GONE,     /* not loaded (never created, or collected) */
        SYSTEMD_UNIT_STARTING, /* created, a job pending, or before the command runs (start_at) */
        SYSTEMD_UNIT_RUNNING,  /* the command runs */
        SYSTEMD_UNIT_STOPPING, /* the command ended, systemd is killing what is left */
        SYSTEMD_UNIT_EXITED,   /* the command ended and the unit is at rest */
} SystemdUnitPhase;

SystemdUnitPhase systemd_unit_phase(const SystemdUnitState *s);

/* How the start job of the unit ended, as far as known. */
typedef enum SystemdStartJob {
        SYSTEMD_START_JOB_UNKNOWN,
        SYSTEMD_START_JOB_DONE, /* Type=exec: the command was exec'd */
        /* the command could not be started, or ended before systemd saw its exec */
        SYSTEMD_START_JOB_FAILED,
} SystemdStartJob;

/* How a unit in SYSTEMD_UNIT_EXITED ended, as the kubelet words it: exit status or 128+signal;
 * "Completed", "Error", "OOMKilled" (Result=oom-kill), or "StartError" (exit code 128, with
 * systemd's reason in the message) for a command that could not be started; "Error" with
 * 137 for one stopped before it started. argv0 and unit are for the messages. */
int systemd_unit_exit(const SystemdUnitState *s, SystemdStartJob job, bool stop_requested, const char *argv0,
                      const char *unit, HostExit *ret);
