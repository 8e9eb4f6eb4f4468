/* Crontabs as Debian's cron (Vixie cron 3.0pl1 with Debian's patches, as in bookworm) reads
 * them, and their translation into CronJob manifests that mean the same on berth's host
 * runtime: crontab.c reads the file, crontab-schedule.c turns cron's time fields into a
 * Kubernetes schedule, crontab-manifest.c builds the CronJobs. What cannot be carried over
 * faithfully is reported with its line number. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"

/* ---- reports, with their line numbers ---- */
typedef enum CrontabLevel {
        CRONTAB_NOTE,    /* translated faithfully, but worth knowing */
        CRONTAB_WARNING, /* translated, but berth will not do exactly what cron did */
        CRONTAB_ERROR,   /* the line is not translated */
} CrontabLevel;

typedef struct CrontabDiag {
        CrontabLevel level;
        unsigned line; /* 1-based; 0 = the file as a whole */
        char *message;
} CrontabDiag;

typedef struct CrontabDiags {
        CrontabDiag *v;
        size_t n;
        bool oom; /* a report was lost to an allocation failure */
} CrontabDiags;

void crontab_diags_add(CrontabDiags *d, CrontabLevel level, unsigned line, const char *fmt, ...)
    _printf_(4, 5);
void crontab_diags_done(CrontabDiags *d);
size_t crontab_diags_count(const CrontabDiags *d, CrontabLevel level);
/* One line per report: "<source>:<line>: error: <message>" ("<source>: ..." for line 0). */
void crontab_diags_print(FILE *out, const CrontabDiags *d, const char *source);

/* ---- crontab.c: reading a crontab ---- */
#define CRONTAB_FIELDS 5

/* cron's reading of the five time fields. */
typedef struct CrontabTimes {
        /* bit n = value n: minute 0-59, hour 0-23, dom 1-31, month 1-12, dow 0-6 (cron's 7,
         * Sunday again, is folded into 0) */
        uint64_t minute, hour, dom, month, dow;
        /* the field's first character is '*': cron's MIN_STAR, HR_STAR, DOM_STAR, DOW_STAR */
        bool minute_star, hour_star, dom_star, dow_star;
        /* a field had characters after its list, which cron skips ("5#2" is 5) */
        bool junk[CRONTAB_FIELDS];
} CrontabTimes;

/* An environment setting, "NAME=value" as cron's load_env reads it. */
typedef struct CrontabVar {
        unsigned line;
        char *name, *value;
} CrontabVar;

/* A job line. */
typedef struct CrontabEntry {
        unsigned line;
        unsigned index;               /* 1-based among the file's job lines, valid or not */
        char *text;                   /* the line as written, without leading blanks */
        char *special;                /* "@daily", "@reboot" ...: NULL with five fields */
        char *fields[CRONTAB_FIELDS]; /* as written; NULL with a special */
        CrontabTimes times;           /* with five fields, and for the specials but @reboot */
        char *user;                   /* a system crontab's user column */
        char *command;                /* what the shell runs: up to the first unescaped '%', "\%" and "\\"
                                       * unescaped, as cron's child_process does */
        char *input;                  /* standard input: what follows that '%', each '%' a newline, "\%" a
                                       * '%', a final newline added; NULL when there is no '%' */
        size_t n_vars;                /* the crontab's first n_vars settings are in force for this line */
} CrontabEntry;

typedef struct Crontab {
        bool system; /* /etc/crontab, /etc/cron.d: a user column after the time fields */
        CrontabVar *vars;
        size_t n_vars;
        CrontabEntry *entries; /* the lines that parsed; the others are errors in the report */
        size_t n_entries;
        size_t n_lines; /* job lines, valid or not */
} Crontab;

/* Does cron read a file of this name in /etc/cron.d? Only names of letters, digits, '_' and
 * '-' (run-parts' classic rule; so not "php.dpkg-dist" or "backup~"). */
bool crontab_cron_d_name_ok(const char *name);

/* Reads a crontab. Lines cron would refuse are reported as errors (and left out); so is
 * what berth reads differently. Returns 0, or -ENOMEM. */
int crontab_parse(const char *data, size_t size, bool system, CrontabDiags *d, Crontab **ret);
Crontab *crontab_free(Crontab *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Crontab *, crontab_free);

/* ---- crontab-schedule.c: cron's time fields as a Kubernetes schedule ---- */
typedef struct CrontabSchedule {
        char *schedule;  /* spec.schedule: the fields as written when robfig/cron reads them
                          * the same, else rewritten; "@daily" ...; "@reboot" */
        bool reboot;     /* once per boot (berth's extension) */
        bool fixed_time; /* cron's "fixed-time" job, neither the minute nor the hour field
                          * starting with '*': cron's daylight saving time handling runs a time
                          * that a jump skips right after it, and a repeated one once */
} CrontabSchedule;

/* Translates e's times. Returns 0; -EINVAL after reporting an error on e's line (cron's
 * times cannot be expressed, or never come); -ENOMEM. Notes about rewrites are reported. */
int crontab_schedule_translate(const CrontabEntry *e, CrontabDiags *d, CrontabSchedule *ret);
void crontab_schedule_done(CrontabSchedule *s);

/* ---- crontab-manifest.c: the CronJobs ---- */
typedef struct CrontabUser {
        char *name, *home;
        uint32_t uid, gid;
        uint32_t *groups; /* supplementary groups besides gid, as initgroups() sets them */
        size_t n_groups;
} CrontabUser;

void crontab_user_done(CrontabUser *u);

/* What the translation asks of the machine; tests pass fakes. */
typedef struct CrontabHost {
        /* getpwnam() and getgrouplist(): 0, -ENOENT for an unknown user, or -errno. */
        int (*user)(void *userdata, const char *name, CrontabUser *ret);
        bool (*is_dir)(void *userdata, const char *path);
        void *userdata;
} CrontabHost;

/* The real machine's passwd and group databases and file system. */
int crontab_host_user(void *userdata, const char *name, CrontabUser *ret);
bool crontab_host_is_dir(void *userdata, const char *path);

typedef struct CrontabImport {
        const char *source; /* for the annotations: the file's path, "crontab" for stdin */
        const char *prefix; /* the CronJobs are "<prefix>-<n>": a DNS-1123 label of at most
                             * CRONTAB_PREFIX_MAX characters (see crontab_manifest_prefix()) */
        const char *owner;  /* a user crontab's owner; unused for a system crontab */
        const CrontabHost *host;
} CrontabImport;

/* The CronJobs' names leave room for "-<n>" within Kubernetes' 52 characters. */
#define CRONTAB_PREFIX_MAX 40
#define CRONTAB_LABEL "berth.dev/crontab"
#define CRONTAB_ANNOTATION_SOURCE "berth.dev/crontab-source"
#define CRONTAB_ANNOTATION_ENTRY "berth.dev/crontab-entry"
/* cron's defaults (Debian: pathnames.h) */
#define CRONTAB_DEFAULT_SHELL "/bin/sh"
#define CRONTAB_DEFAULT_PATH "/usr/bin:/bin"
/* How late a time may still start: cron runs a minute's jobs when it wakes up at most five
 * minutes late, and catches up nothing after it was not running. */
#define CRONTAB_STARTING_DEADLINE_SEC 300

/* A name prefix from a user or file name: lower-case letters, digits and '-', at most
 * CRONTAB_PREFIX_MAX characters; "crontab" when nothing is left. malloc'd, NULL on OOM. */
char *crontab_manifest_prefix(const char *name);
/* Appends to docs a CronJob for every entry of c that translates, and reports on d (an
 * error for each one that does not). Returns 0 or -ENOMEM. */
int crontab_manifest_build(const Crontab *c, const CrontabImport *o, CrontabDiags *d, cJSON *docs);
