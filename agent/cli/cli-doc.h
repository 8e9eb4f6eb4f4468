/* What the help text, the shell completion scripts and the man pages are made from: the
 * verbs, the help of every flag (the flags themselves are cli-args.c's table), the agent's
 * flags and the config file's fields. One table each, so that a verb or a flag added later
 * shows in all three. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli-internal.h"

/* The agent's default config file (config.h's CONFIG_DEFAULT_PATH, which the CLI cannot see;
 * test-cli-man-config checks they agree). */
#define CLI_DOC_CONFIG_PATH "/etc/berth/config.yaml"

/* ---- cli-args.c: the flag table, as the documentation reads it ---- */
typedef enum CliFlagValue {
        CLI_FLAG_VALUE_NONE,     /* a boolean: "--force", "--force=false" */
        CLI_FLAG_VALUE_REQUIRED, /* "--tail 10", "--tail=10" */
        CLI_FLAG_VALUE_OPTIONAL, /* "--cascade" (its bare value) or "--cascade=orphan" */
} CliFlagValue;

typedef struct CliFlagInfo {
        const char *name; /* "namespace" */
        char shorthand;   /* 'n', or 0; as it applies to the verb asked about */
        CliFlagValue value;
        const char *bare; /* CLI_FLAG_VALUE_OPTIONAL: the value of "--name" alone */
} CliFlagInfo;

/* The i-th flag of the command line's table as it applies to verb (NULL: no verb yet):
 * "logs -f" is --follow, "cron -n" is --count. Returns false past the table's end. */
bool cli_flag_info(size_t i, const char *verb, CliFlagInfo *ret);

/* ---- cli-verbs.c: the verbs, the flags' help, the agent's flags ---- */
typedef struct CliFlagDoc {
        const char *name;          /* as in the flag table: "namespace" */
        char shorthand;            /* the agent's flags only (the CLI's come from the table) */
        const char *arg;           /* the value's placeholder, "PATH"; NULL for a boolean */
        const char *help;          /* one sentence */
        const char *const *values; /* the values a shell completes, NULL-terminated, or NULL */
        bool files;                /* a shell completes file names */
        bool global;               /* read by every verb */
} CliFlagDoc;

typedef enum CliVerbArgs {
        CLI_VERB_ARGS_NONE,
        CLI_VERB_ARGS_WORDS,   /* the first argument is one of the verb's words */
        CLI_VERB_ARGS_OBJECTS, /* KIND [NAME...] or KIND/NAME... */
        CLI_VERB_ARGS_POD,     /* the name of a pod */
} CliVerbArgs;

typedef struct CliVerb {
        const char *name;
        const char *synopsis;     /* what follows "berth ": "get KIND [NAME...] [flags]" */
        const char *summary;      /* one line, no final period */
        const char *details;      /* NULL, or sentences for --help and the man page */
        const char *const *flags; /* the verb's own flags (flag table names), NULL-terminated */
        CliVerbArgs args;
        const char *const *words; /* CLI_VERB_ARGS_WORDS */
        bool file_args;           /* the (further) arguments are file names */
        bool agent;               /* `berth agent`: main.c runs it, with the agent's flags */
} CliVerb;

const CliVerb *cli_verbs(size_t *ret_n);
const CliVerb *cli_verbs_find(const char *name);
/* Whether v reads flag: a global flag, one of its own, or one no verb claims (a flag added
 * to the table before any verb names it shows everywhere rather than nowhere). */
bool cli_verbs_takes_flag(const CliVerb *v, const char *flag);
const CliFlagDoc *cli_verbs_flag_docs(size_t *ret_n);
/* The help of a flag of the table, NULL when it has none yet. */
const CliFlagDoc *cli_verbs_flag_doc(const char *name);
/* The flag name of the table as it applies to verb; false when the table has none. */
bool cli_verbs_flag_info(const char *name, const char *verb, CliFlagInfo *ret);
/* The flags of `berth agent` (main.c's getopt table). */
const CliFlagDoc *cli_verbs_agent_flags(size_t *ret_n);
/* Prints the help of verb, or the overview of every verb when verb is NULL or unknown. */
void cli_verbs_print_help(FILE *out, const char *verb);

/* ---- cli-completion.c: `berth completion bash|zsh` ---- */
/* Prints the completion script of shell, "bash" or "zsh". Returns 0, or -EINVAL for
 * another shell. */
int cli_completion_print(FILE *out, const char *shell);
int cli_verb_completion(const CliArgs *a, FILE *out, FILE *err);

/* ---- cli-man.c: the man pages, from the templates in docs/man ---- */
/* Expands a template: a line that is only "@NAME@" becomes the generated section NAME
 * (roff), "@NAME@" or "@NAME:ARG@" inside a line a value. source names the template in
 * errors. Returns 0, -EINVAL with *ret_error set ("berth.1.in:12: unknown marker @X@"), or
 * -ENOMEM. */
int cli_man_expand(FILE *out, const char *source, const char *text, char **ret_error);
/* Prints text escaped for roff: backslashes, minus signs, a leading dot or quote. */
void cli_man_roff(FILE *out, const char *text);

/* ---- cli-man-config.c: the config file's fields, for berth.yaml(5) ---- */
typedef struct CliConfigField {
        const char *key;           /* "stateDir"; a section's key as "runtime.type" */
        const char *type;          /* "string", "mapping", "list", "boolean", "integer" */
        const char *def;           /* the default as YAML, or NULL when def_text says it */
        const char *def_text;      /* the default in words ("the host name"), or NULL */
        bool required;             /* has no default: must be given */
        const char *help;          /* sentences */
        const char *const *values; /* the accepted values when only a few are, or NULL */
} CliConfigField;

/* Every key of the config file, in docs/config.example.yaml's order. */
const CliConfigField *cli_man_config_fields(size_t *ret_n);
/* The keys of one class of storageClasses. */
const CliConfigField *cli_man_config_storage_class_fields(size_t *ret_n);
/* The documented default of a config key, NULL when it has none or no such key. */
const char *cli_man_config_default(const char *key);
/* Prints fields as a roff list (.TP entries). */
void cli_man_config_print(FILE *out, const CliConfigField *fields, size_t n);
