/* Logging for the agent and the CLI: plain lines on stderr, or journald with structured
 * fields when running under systemd. Library code (everything outside agent/) logs at
 * debug only; the agent logs above that, in one step with the error it returns. */
#pragma once

#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Parses "debug|info|notice|warning|error" into a syslog level; -EINVAL otherwise. */
int log_level_from_string(const char *s);
/* Sends log lines to journald (with structured fields) instead of stderr. */
void log_set_journal(bool on);
/* Prefixes every stderr line with the program name (the CLI uses "error: ..." instead). */
void log_set_prefix(const char *prefix);
/* The object the agent is working on, for the journal's structured fields KIND, NAMESPACE,
 * NAME (and POD for a Pod) and CONTAINER of every entry logged until the next call; NULL
 * clears a field. The strings are borrowed: they must outlive their use (a controller sets
 * them for the time of one sync). Plain stderr lines do not show them. */
void log_set_object(const char *kind, const char *ns, const char *name);
void log_set_container(const char *container);

/* Logs at "level" with errno "error" (>= 0, for %m) and returns -abs(error) (or 0). */
int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
    _printf_(6, 7);

#define log_full_errno(level, error, ...)                                                                   \
        log_internal(level, error, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_full(level, ...) (void)log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
