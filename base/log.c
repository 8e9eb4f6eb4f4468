/* Log sink: stderr lines or journald entries, with a process-wide maximum level. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool use_journal;
static const char *line_prefix;

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
                char fbuf[256], lbuf[32];
                snprintf(fbuf, sizeof(fbuf), "CODE_FILE=%s", file);
                snprintf(lbuf, sizeof(lbuf), "CODE_LINE=%d", line);
                if (error > 0)
                        sd_journal_send_with_location(fbuf, lbuf, func, "MESSAGE=%s", buf, "PRIORITY=%d",
                                                      level, "ERRNO=%d", error, NULL);
                else
                        sd_journal_send_with_location(fbuf, lbuf, func, "MESSAGE=%s", buf, "PRIORITY=%d",
                                                      level, NULL);
        } else if (line_prefix)
                fprintf(stderr, "%s: %s\n", line_prefix, buf);
        else
                fprintf(stderr, "%s\n", buf);

        return -error;
}
