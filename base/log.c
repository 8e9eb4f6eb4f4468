/* Log sink: stderr lines or journald entries, with a process-wide maximum level. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool use_journal;
static const char *line_prefix;
static const char *ctx_kind, *ctx_ns, *ctx_name, *ctx_container;

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

void log_set_journal(bool on)
{
        use_journal = on;
}

void log_set_prefix(const char *prefix)
{
        line_prefix = prefix;
}

void log_set_object(const char *kind, const char *ns, const char *name)
{
        ctx_kind = kind;
        ctx_ns = ns;
        ctx_name = name;
        ctx_container = NULL;
}

void log_set_container(const char *container)
{
        ctx_container = container;
}

/* One journal entry: the message, its priority and errno, the code location, and the fields
 * of the object being worked on. */
static void journal_send(int level, int error, const char *file, int line, const char *func, const char *msg)
{
        char message[4200], fields[9][320];
        struct iovec iov[10];
        size_t n = 0;
        int k;

        k = snprintf(message, sizeof(message), "MESSAGE=%s", msg);
        iov[n++] = (struct iovec){message, (size_t)MIN(k, (int)sizeof(message) - 1)};
#define FIELD(...)                                                                                          \
        do {                                                                                                \
                k = snprintf(fields[n - 1], sizeof(fields[0]), __VA_ARGS__);                                \
                iov[n] = (struct iovec){fields[n - 1], (size_t)MIN(k, (int)sizeof(fields[0]) - 1)};         \
                n++;                                                                                        \
        } while (0)
        FIELD("PRIORITY=%d", level);
        FIELD("CODE_FILE=%s", file);
        FIELD("CODE_LINE=%d", line);
        FIELD("CODE_FUNC=%s", func);
        if (error > 0)
                FIELD("ERRNO=%d", error);
        if (ctx_kind)
                FIELD("KIND=%s", ctx_kind);
        if (ctx_ns)
                FIELD("NAMESPACE=%s", ctx_ns);
        if (ctx_name)
                FIELD(ctx_kind && strcmp(ctx_kind, "Pod") == 0 ? "POD=%s" : "NAME=%s", ctx_name);
        if (ctx_container)
                FIELD("CONTAINER=%s", ctx_container);
#undef FIELD
        (void)sd_journal_sendv(iov, (int)n);
}

int log_level_from_string(const char *s)
{
        static const struct {
                const char *name;
                int level;
        } table[] = {
            {"debug", LOG_DEBUG},     {"info", LOG_INFO}, {"notice", LOG_NOTICE},
            {"warning", LOG_WARNING}, {"error", LOG_ERR},
        };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcasecmp(s, table[i].name) == 0)
                        return table[i].level;
        return -EINVAL;
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
{
        char buf[4096];
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > max_level)
                return -error;

        errno = error;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);

        if (use_journal) {
                journal_send(level, error, file, line, func, buf);
        } else if (line_prefix)
                fprintf(stderr, "%s: %s\n", line_prefix, buf);
        else
                fprintf(stderr, "%s\n", buf);

        return -error;
}
