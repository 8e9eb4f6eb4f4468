/* Go's text/tabwriter, which kubectl prints every table and describe page through:
 * tab-terminated cells are aligned per "column block" (consecutive lines that have a cell
 * in that column), each padded to the block's widest cell plus padding. */
#include <string.h>

#include "cli-internal.h"

typedef struct Line {
        const char **cells; /* borrowed pointers into the text copy */
        size_t n;           /* cells, the last one not tab-terminated */
} Line;

typedef struct Writer {
        FILE *out;
        Line *lines;
        size_t n_lines;
        size_t minwidth, padding;
        size_t widths[64];
        size_t n_widths;
} Writer;

static size_t text_width(const char *s)
{
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xC0) != 0x80)
                        w++;
        return w;
}

static void write_lines(Writer *w, size_t line0, size_t line1)
{
        for (size_t i = line0; i < line1; i++) {
                Line *l = &w->lines[i];
                for (size_t j = 0; j < l->n; j++) {
                        fputs(l->cells[j], w->out);
                        if (j + 1 < l->n && j < w->n_widths)
                                for (size_t k = text_width(l->cells[j]); k < w->widths[j]; k++)
                                        fputc(' ', w->out);
                }
                fputc('\n', w->out);
        }
}

static void format(Writer *w, size_t line0, size_t line1)
{
        size_t column = w->n_widths;

        for (size_t this = line0; this < line1; this ++) {
                if (column + 1 >= w->lines[this].n)
                        continue;
                write_lines(w, line0, this);
                line0 = this;

                size_t width = w->minwidth;
                for (; this < line1; this ++) {
                        Line *l = &w->lines[this];
                        if (column + 1 >= l->n)
                                break;
                        width = MAX(width, text_width(l->cells[column]) + w->padding);
                }
                if (w->n_widths < ELEMENTSOF(w->widths)) {
                        w->widths[w->n_widths++] = width;
                        format(w, line0, this);
                        w->n_widths--;
                } else
                        write_lines(w, line0, this);
                line0 = this;
                if (this >= line1)
                        return;
        }
        write_lines(w, line0, line1);
}

static int split_cells(char *s, Line *l)
{
        size_t n = 1;

        for (char *p = s; *p; p++)
                n += *p == '\t';
        l->cells = calloc(n, sizeof(char *));
        if (!l->cells)
                return -ENOMEM;
        l->n = 0;
        for (char *p = s;;) {
                char *t = strchr(p, '\t');
                l->cells[l->n++] = p;
                if (!t)
                        break;
                *t = 0;
                p = t + 1;
        }
        return 0;
}

void cli_tabwriter_print(FILE *out, const char *text, size_t minwidth, size_t padding)
{
        _cleanup_free_ char *copy = strdup(text);
        Writer w = {.out = out, .minwidth = minwidth, .padding = padding};
        size_t n = 0, len;

        if (!copy)
                return;
        len = strlen(copy);
        if (len > 0 && copy[len - 1] == '\n')
                copy[--len] = 0;
        if (len == 0 && !text[0])
                return;
        for (char *p = copy; *p; p++)
                n += *p == '\n';
        w.lines = calloc(n + 1, sizeof(Line));
        if (!w.lines)
                return;
        for (char *p = copy; p;) {
                char *nl = strchr(p, '\n');
                if (nl)
                        *nl = 0;
                if (split_cells(p, &w.lines[w.n_lines]) < 0)
                        goto out;
                w.n_lines++;
                p = nl ? nl + 1 : NULL;
        }
        format(&w, 0, w.n_lines);
out:
        for (size_t i = 0; i < w.n_lines; i++)
                free(w.lines[i].cells);
        free(w.lines);
}
