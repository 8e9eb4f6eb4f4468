/* `berth completion bash|zsh`: completion scripts made from the verb table, the flag table
 * and the kind table. Both shells share one set of POSIX sh functions that compute the
 * candidates (zsh runs them under `emulate -L sh`); each shell adds a small wrapper that
 * hands them its words and the candidates back to its completion system. Object names are
 * asked from the agent at completion time with `berth get KIND -o name`, as kubectl does. */
#include <stdarg.h>
#include <string.h>

#include "cli-doc.h"

/* Prints s for the inside of a single-quoted shell word. */
static void sh_escape(FILE *out, const char *s)
{
        for (; *s; s++)
                if (*s == '\'')
                        fputs("'\\''", out);
                else
                        fputc(*s, out);
}

/* Prints the concatenation of its arguments (up to a NULL) as one single-quoted shell word. */
static void __attribute__((sentinel)) sh_quote(FILE *out, const char *s, ...)
{
        va_list ap;

        va_start(ap, s);
        fputc('\'', out);
        for (; s; s = va_arg(ap, const char *))
                sh_escape(out, s);
        fputc('\'', out);
        va_end(ap);
}

/* "word:description", the candidates' format (zsh's _describe), as one quoted word. */
static void sh_quote_described(FILE *out, const char *word, const char *description)
{
        if (description)
                sh_quote(out, word, ":", description, NULL);
        else
                sh_quote(out, word, NULL);
}

static void print_verbs(FILE *out)
{
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);

        fputs("# __berth_verbs: every verb, as \"verb:summary\".\n"
              "__berth_verbs() {\n"
              "        printf '%s\\n'",
              out);
        for (size_t i = 0; i < n; i++) {
                fputs(" \\\n                ", out);
                sh_quote_described(out, verbs[i].name, verbs[i].summary);
        }
        fputs("\n}\n\n", out);
}

static void print_kinds(FILE *out)
{
        size_t n;
        const KindInfo *k = kind_table(&n);

        fputs("# __berth_kinds: the kinds' plural, singular and short names.\n"
              "__berth_kinds() {\n"
              "        printf '%s\\n'",
              out);
        for (size_t i = 0; i < n; i++) {
                fprintf(out, " %s %s", k[i].plural, k[i].singular);
                if (k[i].short_name)
                        fprintf(out, " %s", k[i].short_name);
        }
        fputs("\n}\n\n", out);
}

static int takes_value(const CliFlagInfo *fi)
{
        return fi->value == CLI_FLAG_VALUE_REQUIRED;
}

static void print_flag_case(FILE *out, const char *indent, char shorthand, const char *name, int value)
{
        fputs(indent, out);
        if (shorthand)
                fprintf(out, "-%c|", shorthand);
        fprintf(out, "--%s) __berth_fname=%s __berth_fval=%d ;;\n", name, name, value);
}

/* The verb's shorthands that differ from the ones before any verb ("logs -f"). */
static void print_overrides(FILE *out, const CliVerb *v)
{
        CliFlagInfo fi, global;
        bool any = false;

        for (size_t i = 0; cli_flag_info(i, v->name, &fi) && cli_flag_info(i, NULL, &global); i++) {
                if (!fi.shorthand || fi.shorthand == global.shorthand)
                        continue;
                if (!any)
                        fprintf(out, "        %s)\n                case $2 in\n", v->name);
                any = true;
                fprintf(out, "                -%c) __berth_fname=%s __berth_fval=%d; return ;;\n",
                        fi.shorthand, fi.name, takes_value(&fi));
        }
        if (any)
                fputs("                esac ;;\n", out);
}

static void print_flag(FILE *out)
{
        size_t n, n_agent;
        const CliVerb *verbs = cli_verbs(&n);
        const CliFlagDoc *agent = cli_verbs_agent_flags(&n_agent);
        CliFlagInfo fi;

        fputs("# __berth_flag VERB WORD: sets __berth_fname to the name of the flag WORD spells for\n"
              "# VERB (empty when none) and __berth_fval to 1 when the next word is its value.\n"
              "__berth_flag() {\n"
              "        __berth_fname= __berth_fval=0\n"
              "        case $1 in\n",
              out);
        for (size_t i = 0; i < n; i++)
                if (!verbs[i].agent)
                        print_overrides(out, &verbs[i]);
        for (size_t i = 0; i < n; i++) {
                if (!verbs[i].agent)
                        continue;
                fprintf(out, "        %s)\n                case $2 in\n", verbs[i].name);
                for (size_t j = 0; j < n_agent; j++)
                        print_flag_case(out, "                ", agent[j].shorthand, agent[j].name,
                                        agent[j].arg != NULL);
                fputs("                esac\n                return ;;\n", out);
        }
        fputs("        esac\n        case $2 in\n", out);
        for (size_t i = 0; cli_flag_info(i, NULL, &fi); i++)
                print_flag_case(out, "        ", fi.shorthand, fi.name, takes_value(&fi));
        fputs("        esac\n}\n\n", out);
}

static void print_spellings(FILE *out, char shorthand, const char *name, const char *help)
{
        char s[3] = {'-', shorthand, 0};
        _cleanup_free_ char *l = strjoin("--", name, NULL);

        if (shorthand) {
                fputs(" \\\n                        ", out);
                sh_quote_described(out, s, help);
        }
        fputs(" \\\n                        ", out);
        sh_quote_described(out, l ?: name, help);
}

/* The flags v reads (v NULL: before any verb, the global ones) as "-x:help", "--name:help". */
static void print_verb_flags(FILE *out, const CliVerb *v)
{
        CliFlagInfo fi;
        size_t n = 0;

        fprintf(out, "        %s) printf '%%s\\n'", v ? v->name : "''");
        if (v && v->agent) {
                const CliFlagDoc *agent = cli_verbs_agent_flags(&n);
                for (size_t i = 0; i < n; i++)
                        print_spellings(out, agent[i].shorthand, agent[i].name, agent[i].help);
        } else
                for (size_t i = 0; cli_flag_info(i, v ? v->name : NULL, &fi); i++) {
                        const CliFlagDoc *d = cli_verbs_flag_doc(fi.name);
                        bool takes = v ? cli_verbs_takes_flag(v, fi.name)
                                       : cli_verbs_takes_flag(&(const CliVerb){.name = ""}, fi.name);
                        if (takes)
                                print_spellings(out, fi.shorthand, fi.name, d ? d->help : NULL);
                }
        fputs(" ;;\n", out);
}

static void print_flags(FILE *out)
{
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);

        fputs("# __berth_flags VERB: the flags VERB reads, as \"-x:help\" and \"--name:help\".\n"
              "__berth_flags() {\n"
              "        case $1 in\n",
              out);
        for (size_t i = 0; i < n; i++)
                print_verb_flags(out, &verbs[i]);
        print_verb_flags(out, NULL);
        fputs("        esac\n}\n\n", out);
}

/* The case branch that prints the values of one flag, if it has any to complete. */
static void print_value_case(FILE *out, const char *indent, const CliFlagDoc *d)
{
        if (!d->files && !d->values)
                return;
        fprintf(out, "%s%s) printf '%%s\\n'", indent, d->name);
        if (d->files)
                fputs(" @files", out);
        for (const char *const *v = d->values; v && *v; v++) {
                fputc(' ', out);
                sh_quote(out, *v, NULL);
        }
        fputs(" ;;\n", out);
}

static void print_values(FILE *out)
{
        size_t n, n_docs, n_agent;
        const CliVerb *verbs = cli_verbs(&n);
        const CliFlagDoc *docs = cli_verbs_flag_docs(&n_docs), *agent = cli_verbs_agent_flags(&n_agent);

        fputs("# __berth_values VERB NAME: the values of VERB's flag NAME; \"@files\": file names.\n"
              "__berth_values() {\n"
              "        case $1 in\n",
              out);
        for (size_t i = 0; i < n; i++) {
                if (!verbs[i].agent)
                        continue;
                fprintf(out, "        %s)\n                case $2 in\n", verbs[i].name);
                for (size_t j = 0; j < n_agent; j++)
                        print_value_case(out, "                ", &agent[j]);
                fputs("                esac\n                return ;;\n", out);
        }
        fputs("        esac\n        case $2 in\n", out);
        for (size_t i = 0; i < n_docs; i++)
                print_value_case(out, "        ", &docs[i]);
        fputs("        esac\n}\n\n", out);
}

static void print_args(FILE *out)
{
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);

        fputs("# __berth_args VERB: sets __berth_a to how VERB's arguments complete: objects (KIND\n"
              "# [NAME...] or KIND/NAME), pod (a pod's name), \"words W...\" (the first argument), and\n"
              "# __berth_files to 1 when the (further) arguments are file names.\n"
              "__berth_args() {\n"
              "        __berth_a= __berth_files=0\n"
              "        case $1 in\n",
              out);
        for (size_t i = 0; i < n; i++) {
                const CliVerb *v = &verbs[i];
                if (v->args == CLI_VERB_ARGS_NONE && !v->file_args)
                        continue;
                fprintf(out, "        %s) __berth_files=%d __berth_a=", v->name, v->file_args);
                if (v->args == CLI_VERB_ARGS_OBJECTS)
                        fputs("objects", out);
                else if (v->args == CLI_VERB_ARGS_POD)
                        fputs("pod", out);
                else if (v->args == CLI_VERB_ARGS_WORDS) {
                        fputs("'words", out);
                        for (const char *const *p = v->words; p && *p; p++) {
                                fputc(' ', out);
                                sh_escape(out, *p);
                        }
                        fputc('\'', out);
                }
                fputs(" ;;\n", out);
        }
        fputs("        esac\n}\n\n", out);
}

/* The candidates themselves: plain POSIX sh, shared by both shells. */
static const char candidates_sh[] =
    "# __berth_names COMMAND KIND NAMESPACE SOCKET: the names of KIND's objects, from the agent.\n"
    "__berth_names() {\n"
    "        \"$1\" get \"$2\" -o name ${3:+\"--namespace=$3\"} ${4:+\"--socket=$4\"} 2>/dev/null "
    "</dev/null |\n"
    "                while IFS= read -r __berth_l; do printf '%s\\n' \"${__berth_l#*/}\"; done\n"
    "}\n"
    "\n"
    "# __berth_candidates INDEX WORD...: the candidates for word INDEX of WORD... (word 0 is the\n"
    "# command), one a line as \"word\" or \"word:description\"; \"@files\" for file names as well.\n"
    "__berth_candidates() {\n"
    "        [ -n \"${ZSH_VERSION-}\" ] && emulate -L sh\n"
    "        local idx=$1 n=0 w cur= cmd verb= ns= sock= expect= npos=0 first= dd= k\n"
    "        shift\n"
    "        cmd=$1\n"
    "        case $cmd in '~/'*) cmd=$HOME/${cmd#'~/'} ;; esac\n"
    "        for w in \"$@\"; do\n"
    "                if [ \"$n\" -eq \"$idx\" ]; then\n"
    "                        cur=$w\n"
    "                        break\n"
    "                fi\n"
    "                n=$((n + 1))\n"
    "                [ \"$n\" -eq 1 ] && continue\n"
    "                if [ -n \"$expect\" ]; then\n"
    "                        case $expect in namespace) ns=$w ;; socket) sock=$w ;; esac\n"
    "                        expect=\n"
    "                        continue\n"
    "                fi\n"
    "                if [ -z \"$dd\" ]; then\n"
    "                        case $w in\n"
    "                        --) dd=1; continue ;;\n"
    "                        --*=*)\n"
    "                                __berth_flag \"$verb\" \"${w%%=*}\"\n"
    "                                case $__berth_fname in namespace) ns=${w#*=} ;; socket) sock=${w#*=} "
    ";; esac\n"
    "                                continue ;;\n"
    "                        -?*)\n"
    "                                __berth_flag \"$verb\" \"$w\"\n"
    "                                [ \"$__berth_fval\" = 1 ] && expect=$__berth_fname\n"
    "                                continue ;;\n"
    "                        esac\n"
    "                fi\n"
    "                if [ -z \"$verb\" ]; then\n"
    "                        verb=$w\n"
    "                else\n"
    "                        npos=$((npos + 1))\n"
    "                        [ \"$npos\" -eq 1 ] && first=$w\n"
    "                fi\n"
    "        done\n"
    "        if [ -n \"$expect\" ]; then\n"
    "                __berth_values \"$verb\" \"$expect\"\n"
    "                return\n"
    "        fi\n"
    "        if [ -z \"$dd\" ]; then\n"
    "                case $cur in\n"
    "                --*=*)\n"
    "                        __berth_flag \"$verb\" \"${cur%%=*}\"\n"
    "                        [ -n \"$__berth_fname\" ] || return\n"
    "                        __berth_values \"$verb\" \"$__berth_fname\" | while IFS= read -r w; do\n"
    "                                case $w in @*) printf '%s\\n' \"$w\" ;; *) printf '%s\\n' "
    "\"${cur%%=*}=$w\" ;; esac\n"
    "                        done\n"
    "                        return ;;\n"
    "                -*)\n"
    "                        __berth_flags \"$verb\"\n"
    "                        return ;;\n"
    "                esac\n"
    "        fi\n"
    "        if [ -z \"$verb\" ]; then\n"
    "                __berth_verbs\n"
    "                return\n"
    "        fi\n"
    "        __berth_args \"$verb\"\n"
    "        case $__berth_a in\n"
    "        objects)\n"
    "                case $cur in\n"
    "                */*)\n"
    "                        k=${cur%%/*}\n"
    "                        __berth_names \"$cmd\" \"$k\" \"$ns\" \"$sock\" | while IFS= read -r w; do\n"
    "                                printf '%s\\n' \"$k/$w\"\n"
    "                        done ;;\n"
    "                *)\n"
    "                        if [ \"$npos\" -eq 0 ]; then\n"
    "                                __berth_kinds\n"
    "                        else\n"
    "                                case $first in */* | *,*) ;; *) __berth_names \"$cmd\" \"$first\" "
    "\"$ns\" \"$sock\" ;; esac\n"
    "                        fi ;;\n"
    "                esac ;;\n"
    "        pod) [ \"$npos\" -eq 0 ] && __berth_names \"$cmd\" pods \"$ns\" \"$sock\" ;;\n"
    "        words\\ *)\n"
    "                if [ \"$npos\" -eq 0 ]; then\n"
    "                        printf '%s\\n' ${__berth_a#words }\n"
    "                        return 0\n"
    "                fi ;;\n"
    "        esac\n"
    "        [ \"$__berth_files\" = 1 ] && echo @files\n"
    "        return 0\n"
    "}\n";

/* Readline splits "--output=json" at "=" (COMP_WORDBREAKS): the wrapper joins the pieces for
 * __berth_candidates and hands back only what follows the last "=", the part bash replaces. */
static const char bash_wrapper[] =
    "_berth() {\n"
    "        local -a words=() files=()\n"
    "        local i n=-1 glue=0 w cur pre line value f\n"
    "        COMPREPLY=()\n"
    "        for ((i = 0; i < ${#COMP_WORDS[@]} && i <= COMP_CWORD; i++)); do\n"
    "                w=${COMP_WORDS[i]}\n"
    "                if ((n >= 0)) && [[ $w == \"=\" && ${words[n]} == -* ]]; then\n"
    "                        words[n]+=\"=\"\n"
    "                        glue=1\n"
    "                elif ((glue)); then\n"
    "                        words[n]+=$w\n"
    "                        glue=0\n"
    "                else\n"
    "                        words[++n]=$w\n"
    "                fi\n"
    "        done\n"
    "        cur=${words[n]}\n"
    "        pre=\n"
    "        [[ $cur == *=* && $COMP_WORDBREAKS == *=* ]] && pre=${cur%\"${cur##*=}\"}\n"
    "        while IFS= read -r line; do\n"
    "                case $line in\n"
    "                @files)\n"
    "                        compopt -o filenames 2>/dev/null\n"
    "                        value=$cur\n"
    "                        [[ $cur == -*=* ]] && value=${cur#*=}\n"
    "                        mapfile -t files < <(compgen -f -- \"$value\")\n"
    "                        for f in \"${files[@]}\"; do\n"
    "                                f=${cur%\"$value\"}$f\n"
    "                                COMPREPLY+=(\"${f#\"$pre\"}\")\n"
    "                        done ;;\n"
    "                *)\n"
    "                        line=${line%%:*}\n"
    "                        [[ $line == \"$cur\"* ]] && COMPREPLY+=(\"${line#\"$pre\"}\") ;;\n"
    "                esac\n"
    "        done < <(__berth_candidates \"$n\" \"${words[@]}\")\n"
    "}\n"
    "\n"
    "complete -F _berth berth\n";

static const char zsh_wrapper[] =
    "_berth() {\n"
    "        local -a cands out\n"
    "        local line files=0\n"
    "        out=(\"${(@f)$(__berth_candidates $((CURRENT - 1)) \"${(@)words[1,CURRENT]}\")}\")\n"
    "        for line in \"${out[@]}\"; do\n"
    "                case $line in\n"
    "                @files) files=1 ;;\n"
    "                ?*) cands+=(\"$line\") ;;\n"
    "                esac\n"
    "        done\n"
    "        if ((files)); then\n"
    "                [[ $PREFIX == -*=* ]] && compset -P '*='\n"
    "                _files\n"
    "        fi\n"
    "        ((${#cands})) && _describe -t berth berth cands\n"
    "        return 0\n"
    "}\n"
    "\n"
    "if [ \"$funcstack[1]\" = _berth ]; then\n"
    "        _berth \"$@\"\n"
    "elif (($+functions[compdef])); then\n"
    "        compdef _berth berth\n"
    "fi\n";

int cli_completion_print(FILE *out, const char *shell)
{
        bool zsh = streq_ptr(shell, "zsh");

        if (!zsh && !streq_ptr(shell, "bash"))
                return -EINVAL;
        if (zsh)
                fputs("#compdef berth\n"
                      "# zsh completion for berth, from `berth completion zsh`: source it, or save it as\n"
                      "# _berth in a directory of $fpath.\n\n",
                      out);
        else
                fputs("# bash completion for berth, from `berth completion bash`: source it, or save it as\n"
                      "# /usr/share/bash-completion/completions/berth.\n\n",
                      out);
        print_verbs(out);
        print_kinds(out);
        print_flag(out);
        print_flags(out);
        print_values(out);
        print_args(out);
        fputs(candidates_sh, out);
        fputc('\n', out);
        fputs(zsh ? zsh_wrapper : bash_wrapper, out);
        return 0;
}

int cli_verb_completion(const CliArgs *a, FILE *out, FILE *err)
{
        if (a->n_pos != 1) {
                fprintf(err, "error: %s\n",
                        a->n_pos == 0 ? "a shell is required: berth completion bash|zsh"
                                      : "exactly one shell is expected: bash or zsh");
                return 1;
        }
        if (cli_completion_print(out, a->pos[0]) < 0) {
                fprintf(err, "error: unsupported shell \"%s\": supported shells: \"bash\", \"zsh\"\n",
                        a->pos[0]);
                return 1;
        }
        return 0;
}
