/* berth-mangen TEMPLATE: prints the man page of a template of this folder, its markers
 * expanded from the CLI's tables (cli_man_expand()). Run by meson at build time. */
#include <string.h>

#include "cli-doc.h"
#include "util.h"

int main(int argc, char **argv)
{
        _cleanup_free_ char *text = NULL, *err = NULL;
        const char *name;
        size_t size;
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: berth-mangen TEMPLATE\n");
                return 2;
        }
        r = read_full_file(argv[1], 1024 * 1024, &text, &size);
        if (r < 0) {
                fprintf(stderr, "berth-mangen: %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        name = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
        r = cli_man_expand(stdout, name, text, &err);
        if (r < 0) {
                fprintf(stderr, "berth-mangen: %s\n", err ?: strerror(-r));
                return 1;
        }
        return fflush(stdout) == 0 ? 0 : 1;
}
