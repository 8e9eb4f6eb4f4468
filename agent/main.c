/* berth: one binary for the agent ("berth agent"), the per-container shim ("berth shim
 * DIR", started by the host runtime) and the kubectl-like CLI (every other verb). */
#include <getopt.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "berth-config.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "manager.h"
#include "runtime.h"

static void agent_help(void)
{
        printf("Usage: berth agent [OPTIONS]\n\n"
               "Runs the node agent in the foreground.\n\n"
               "  --config FILE          configuration file (default %s)\n"
               "  --state-dir DIR        state directory (default /var/lib/berth)\n"
               "  --socket PATH          API socket (default /run/berth/berth.sock)\n"
               "  --manifests-dir DIR    watched manifests directory (default /etc/berth/manifests.d)\n"
               "  --node-name NAME       this node's name (default: the host name)\n"
               "  --log-dir DIR          pod log directory (default /var/log/pods)\n"
               "  --log-level LEVEL      debug, info, notice, warning or error\n"
               "  --drain                on SIGTERM, stop every workload before exiting\n"
               "  -h, --help             show this help\n",
               CONFIG_DEFAULT_PATH);
}

static int set_str(char **dst, const char *v)
{
        char *s = strdup(v);

        if (!s)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

enum {
        ARG_CONFIG = 0x100,
        ARG_STATE,
        ARG_SOCKET,
        ARG_MANIFESTS,
        ARG_NODE,
        ARG_LOGDIR,
        ARG_LEVEL,
        ARG_DRAIN
};

/* The command line's settings, applied over the config file at start and at each reload. */
typedef struct AgentFlags {
        const char *v[ARG_LEVEL - ARG_CONFIG + 1];
} AgentFlags;

static int load_config(void *userdata, Config *ret, char **ret_error)
{
        const AgentFlags *f = userdata;
        const char *path = f->v[0];
        int r;

        r = config_init(ret);
        if (r >= 0)
                r = config_load(ret, path ?: CONFIG_DEFAULT_PATH, !path, ret_error);
        char **dst[] = {
            NULL,          &ret->state_dir, &ret->socket_path, &ret->manifests_dir, &ret->node_name,
            &ret->log_dir, &ret->log_level};
        for (size_t i = 1; r >= 0 && i < ELEMENTSOF(dst); i++)
                if (f->v[i])
                        r = set_str(dst[i], f->v[i]);
        if (r >= 0)
                r = config_check(ret, ret_error);
        return r;
}

static int agent_main(int argc, char **argv)
{
        static const struct option options[] = {
            {"config", required_argument, NULL, ARG_CONFIG},
            {"state-dir", required_argument, NULL, ARG_STATE},
            {"socket", required_argument, NULL, ARG_SOCKET},
            {"manifests-dir", required_argument, NULL, ARG_MANIFESTS},
            {"node-name", required_argument, NULL, ARG_NODE},
            {"log-dir", required_argument, NULL, ARG_LOGDIR},
            {"log-level", required_argument, NULL, ARG_LEVEL},
            {"drain", no_argument, NULL, ARG_DRAIN},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        AgentFlags flags = {};
        _cleanup_free_ char *err = NULL;
        _cleanup_(manager_freep) Manager *m = NULL;
        bool drain = false;
        Config config = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        agent_help();
                        return 0;
                }
                if (c == ARG_DRAIN)
                        drain = true;
                else if (c >= ARG_CONFIG && c <= ARG_LEVEL)
                        flags.v[c - ARG_CONFIG] = optarg;
                else
                        return 2; /* getopt printed the error */
        }
        if (optind < argc) {
                log_error("berth agent: unexpected argument \"%s\"", argv[optind]);
                return 2;
        }
        r = load_config(&flags, &config, &err);
        if (r < 0) {
                log_error("berth agent: %s", err ?: strerror(-r));
                config_done(&config);
                return 1;
        }
        log_set_max_level(log_level_from_string(config.log_level));
        if (sd_booted() > 0 && getenv("JOURNAL_STREAM"))
                log_set_journal(true);

        r = manager_new(&m, &config);
        if (r >= 0) {
                manager_set_reloader(m, load_config, &flags);
                r = manager_run(m, drain);
        }
        m = manager_free(m);
        config_done(&config);
        return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
        if (argc >= 2 && streq(argv[1], "agent"))
                return agent_main(argc - 1, argv + 1);
        if (argc >= 3 && streq(argv[1], "shim"))
                return runtime_shim_main(argv[2]);
        return cli_main(argc, argv);
}
