/* The CRI log writer of the host shim: turns a container's stdout/stderr byte streams into
 * "<RFC3339Nano> <stream> <P|F> <text>" lines (containerd's format and 16 KiB split) and
 * rotates the file like the kubelet's container log manager does. */
#pragma once

#include <stdint.h>

#include "macro.h"

typedef enum HostLogStream {
        HOST_LOG_STDOUT,
        HOST_LOG_STDERR,
        _HOST_LOG_STREAM_MAX,
} HostLogStream;

#define HOST_LOG_MAX_LINE 16384u
#define HOST_LOG_DEFAULT_MAX_SIZE (10u * 1024u * 1024u)
#define HOST_LOG_DEFAULT_MAX_FILES 5u

typedef struct HostLog HostLog;

/* Opens (appends to) path, creating its directory. max_size 0 / max_files 0 = defaults. */
int host_log_new(HostLog **ret, const char *path, uint64_t max_size, unsigned max_files);
HostLog *host_log_free(HostLog *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(HostLog *, host_log_free);

/* Feeds raw bytes of one stream; complete lines are written as F, lines longer than
 * HOST_LOG_MAX_LINE as P chunks followed by the F remainder. */
int host_log_feed(HostLog *l, HostLogStream s, const void *data, size_t size);
/* End of a stream: an unterminated last line is written as P (containerd does the same, so
 * that readers reproduce the missing newline). */
int host_log_finish(HostLog *l, HostLogStream s);
