/* Layout of TimeZone and the helpers shared by tz.c (files, lookups) and tz-rule.c (the
 * POSIX TZ string of a TZif footer, evaluated like Go's tzset). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "tz.h"

typedef struct TzType {
        int32_t offset;
        bool isdst;
        char abbr[16];
} TzType;

typedef enum TzRuleKind {
        TZ_RULE_JULIAN,         /* Jn: 1..365, February 29th never counted */
        TZ_RULE_DOY,            /* n: 0..365 */
        TZ_RULE_MONTH_WEEK_DAY, /* Mm.w.d */
} TzRuleKind;

typedef struct TzRuleDate {
        TzRuleKind kind;
        int day, week, mon;
        int time; /* seconds after local midnight, default 02:00 */
} TzRuleDate;

typedef struct TzRule {
        char std_name[16], dst_name[16];
        int std_offset, dst_offset; /* east of UTC */
        bool has_dst;
        TzRuleDate start, end;
} TzRule;

/* What Go's Location.lookup returns. */
typedef struct TzInfo {
        int offset;
        bool isdst;
        const char *abbr;
        int64_t start, end;
} TzInfo;

struct TimeZone {
        unsigned n_ref;
        char *name;
        TzType *types; /* no types: UTC */
        unsigned n_types;
        int64_t *tx_when;
        uint8_t *tx_index;
        unsigned n_tx;
        unsigned first_type;
        char footer_text[128];
        bool has_rule;
        TzRule rule;
};

int tz_load_file(const char *path, const char *name, TimeZone **ret);
unsigned tz_first_type(const TimeZone *tz);
void tz_lookup_info(const TimeZone *tz, int64_t t, TzInfo *ret);

/* Parses a POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0", "<-03>3"). 0 or -EINVAL. */
int tz_rule_parse(const char *s, TzRule *ret);
/* Go's tzset(): the offset at sec, with last_tx the instant of the last transition. */
void tz_rule_eval(const TzRule *rule, int64_t last_tx, int64_t sec, TzInfo *ret);

/* Proleptic Gregorian calendar helpers. */
int64_t tz_days_from_civil(int64_t y, int m, int d);
void tz_civil_from_days(int64_t days, int64_t *ret_y, int *ret_m, int *ret_d);
bool tz_is_leap(int64_t y);
