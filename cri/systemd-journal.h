/* Internal: the copy of the systemd backend's unit output from the journal into the kubelet's
 * CRI log files. One journal (the system's, or a namespace's), its stdout entries followed on
 * the loop from a saved cursor, so that what the units wrote while the agent was away is
 * copied when it is back; each entry goes to the log its SYSLOG_IDENTIFIER (the units'
 * SyslogIdentifier=, the container id) names. */
#pragma once

#include <systemd/sd-event.h>

#include "host-log.h"

typedef struct SystemdJournal SystemdJournal;

/* The log an entry with this identifier goes to, or NULL to drop it (not one of ours, or no
 * log). */
typedef HostLog *(*systemd_journal_route_t)(const char *identifier, void *userdata);

/* Opens the journal (log_namespace NULL: the system's) and starts following the stdout entries
 * whose SYSLOG_IDENTIFIER starts with prefix (and is longer) after the cursor saved in
 * cursor_path (none: after the newest entry). The cursor is saved as entries are copied, at
 * most once a second, and when freed. */
int systemd_journal_new(SystemdJournal **ret, sd_event *e, const char *log_namespace, const char *prefix,
                        const char *cursor_path, systemd_journal_route_t route, void *userdata);
SystemdJournal *systemd_journal_free(SystemdJournal *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(SystemdJournal *, systemd_journal_free);
/* Copies what the journal holds by now (before an exit is reported, so that the log has
 * the container's last lines). NULL is a no-op. */
void systemd_journal_flush(SystemdJournal *j);
