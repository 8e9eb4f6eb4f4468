/* The agent's config file, as berth.yaml(5) documents it: every key config_load() accepts
 * with its type, default and meaning, and the keys of a storage class. test-cli-man-config
 * checks these tables against the loader, config_init()'s defaults and the storage class
 * parser, so that a key added there fails until it is documented here. */
#include <string.h>

#include "cli-doc.h"

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const CliConfigField fields[] = {
    {.key = "nodeName",
     .type = "string",
     .def_text = "the host name, lower-cased",
     .help = "This node's name: the name of its Node object and the spec.nodeName of its pods. A lowercase "
             "RFC 1123 subdomain."},
    {.key = "nodeAddress",
     .type = "string",
     .def_text = "the IPv4 address of the interface of the default route, else the first global IPv4 "
                 "address of an interface that is up, else 127.0.0.1",
     .help = "This node's address as the other nodes reach it: the InternalIP of its Node object. In "
             "cluster mode a pod of another node whose podIP is a loopback address (the host runtime's "
             "pods share the host's network) is named at its node's address in the /etc/hosts of a "
             "StatefulSet's pods. An IPv4 or IPv6 address."},
    {.key = "labels",
     .type = "mapping",
     .def = "{}",
     .help = "The labels of the Node object (string values), for nodeSelector and DaemonSet placement."},
    {.key = "taints",
     .type = "list",
     .def = "[]",
     .help =
         "The taints of the Node object, as in its spec.taints: {key: K, value: V, effect: NoSchedule}."},
    {.key = "stateDir",
     .type = "string",
     .def = "/var/lib/berth",
     .help = "An absolute path: the store (berth.db, SQLite in WAL mode), the containers' state, the pods' "
             "volumes (pods/UID/volumes) and the local persistent volumes (storage/, volumes/)."},
    {.key = "manifestsDir",
     .type = "string",
     .def = "/etc/berth/manifests.d",
     .help = "An absolute path: the directory of manifests the agent applies and watches. A new or changed "
             "file is applied; the objects of a removed file, or removed from a file, are deleted. SIGHUP "
             "reads it again."},
    {.key = "socket",
     .type = "string",
     .def = "/run/berth/berth.sock",
     .help = "An absolute path: the API socket (HTTP with the Kubernetes REST paths), mode 0660, where "
             "berth(1) connects."},
    {.key = "socketGroup",
     .type = "string",
     .def_text = "berth when that group exists, else none",
     .help = "The group owning the socket: its members may use the API, as root may."},
    {.key = "logDir",
     .type = "string",
     .def = "/var/log/pods",
     .help = "An absolute path: the containers' logs, NS_POD_UID/CONTAINER/RESTARTS.log in the CRI format, "
             "rotated at 10 MiB keeping 5 files, removed with their pod."},
    {.key = "metricsAddress",
     .type = "string",
     .def = "\"\"",
     .help = "HOST:PORT where Prometheus text is served over TCP (GET /metrics), e.g. 127.0.0.1:10255; "
             "empty: only on the API socket at /metrics."},
    {.key = "runtime", .type = "mapping", .help = "The runtime that runs the containers."},
    {.key = "runtime.type",
     .type = "string",
     .def = "host",
     .help = "host: each container is a host process under berth's shim, in its own cgroup and mount "
             "namespace; systemd: each container is a transient unit of systemd (systemctl list-units, "
             "journalctl -u); cri: each pod a sandbox of a CRI v1 runtime (containerd, CRI-O), "
             "each container a CRI container in it.",
     .values = WORDS("host", "cri", "systemd")},
    {.key = "runtime.endpoint",
     .type = "string",
     .def = "\"\"",
     .help = "cri: the runtime's socket, unix:///PATH (default: containerd's "
             "unix:///run/containerd/containerd.sock when it exists, else CRI-O's "
             "unix:///var/run/crio/crio.sock); "
             "systemd: a manager's private socket or bus address (default: the system manager)."},
    {.key = "coordinator",
     .type = "mapping",
     .help = "How nodes share objects, StatefulSet ordinals, DaemonSet roll-outs and cron runs."},
    {.key = "coordinator.type",
     .type = "string",
     .def = "local",
     .help = "local: this node owns everything and needs no network; etcd: the node registers in etcd "
             "under a lease, Namespaces, ConfigMaps, Secrets, Services, StatefulSets, DaemonSets and "
             "CronJobs are shared with every agent of the same etcd and every agent lists the fleet's "
             "pods, each StatefulSet ordinal runs on the one node that claimed it, DaemonSet roll-outs "
             "take fleet-wide slots, and each run of a fleet CronJob is launched by one node only (a "
             "CronJob annotated berth.dev/cron-scope: node runs on every node).",
     .values = WORDS("local", "etcd")},
    {.key = "coordinator.endpoints", .type = "list", .def = "[]", .help = "The etcd URLs (strings)."},
    {.key = "coordinator.leaseTTLSeconds",
     .type = "integer",
     .def = "10",
     .help = "The etcd lease of this node's registration and claims; when it cannot be renewed the "
             "node gives up its claims 2 s before it runs out. At least 3."},
    {.key = "storageClasses",
     .type = "mapping",
     .def = "{}",
     .help = "The storage classes that provision local persistent volumes, by name (a lowercase RFC 1123 "
             "subdomain); each is a mapping described in STORAGE CLASSES. Without any, one class local "
             "makes directories under STATEDIR/storage/local."},
    {.key = "defaultStorageClass",
     .type = "string",
     .def = "\"\"",
     .help = "The class of claims that name none; it must be a key of storageClasses. Empty: local when "
             "storageClasses is empty, else none (such claims stay Pending)."},
    {.key = "seccompDefault",
     .type = "boolean",
     .def = "false",
     .help = "Give every container that chooses no seccomp profile the RuntimeDefault filter."},
    {.key = "eventsMax",
     .type = "integer",
     .def = "1000",
     .help = "How many events the store keeps, from 1 to 10000000; the oldest go first."},
    {.key = "logLevel",
     .type = "string",
     .def = "info",
     .help = "The agent's log level.",
     .values = WORDS("debug", "info", "notice", "warning", "error")},
    {.key = "cgroupRoot",
     .type = "string",
     .def = "berth",
     .help = "The cgroup under which containers live, HIERARCHY/CGROUPROOT/pod-UID/CONTAINER: a relative "
             "name without a dot."},
};

static const CliConfigField storage_class_fields[] = {
    {.key = "type",
     .type = "string",
     .required = true,
     .help = "dir: a directory per claim; loop: a sparse image file per claim, on a loop device, formatted "
             "once; block: a free block device from a directory of device nodes.",
     .values = WORDS("dir", "loop", "block")},
    {.key = "path",
     .type = "string",
     .required = true,
     .help = "An absolute path: the parent directory of the volumes' directories (dir) or images (loop); a "
             "block device, or a directory of them (block)."},
    {.key = "fsType",
     .type = "string",
     .def = "ext4",
     .help = "The file system of loop and block volumes, made with mkfs when blkid finds none.",
     .values = WORDS("ext4", "xfs")},
    {.key = "reclaimPolicy",
     .type = "string",
     .def = "Delete",
     .help = "What becomes of a volume whose claim is deleted: Delete removes the directory or image, or "
             "wipes the device; Retain keeps it until berth delete pv.",
     .values = WORDS("Delete", "Retain")},
    {.key = "maxSize",
     .type = "quantity",
     .def_text = "no limit",
     .help = "The largest request the class provisions, e.g. 100Gi."},
    {.key = "allowVolumeExpansion",
     .type = "boolean",
     .def = "true",
     .help = "Whether a claim's request may grow; the image and the file system grow with it."},
};

const CliConfigField *cli_man_config_fields(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(fields);
        return fields;
}

const CliConfigField *cli_man_config_storage_class_fields(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(storage_class_fields);
        return storage_class_fields;
}

const char *cli_man_config_default(const char *key)
{
        for (size_t i = 0; key && i < ELEMENTSOF(fields); i++)
                if (streq(fields[i].key, key))
                        return fields[i].def;
        return NULL;
}

static void print_field(FILE *out, const CliConfigField *f, const char *key)
{
        fputs(".TP\n\\fB", out);
        cli_man_roff(out, key);
        fputs("\\fR (\\fI", out);
        cli_man_roff(out, f->type);
        fputs("\\fR", out);
        if (f->required)
                fputs(", required", out);
        else if (f->def || f->def_text) {
                fputs(f->def ? ", default \\fB" : ", default ", out);
                cli_man_roff(out, f->def ?: f->def_text);
                fputs(f->def ? "\\fR" : "", out);
        }
        fputs(")\n", out);
        cli_man_roff(out, f->help);
        fputc('\n', out);
        if (f->values) {
                fputs("Values:", out);
                for (const char *const *v = f->values; *v; v++) {
                        fputs(v == f->values ? " \\fB" : ", \\fB", out);
                        cli_man_roff(out, *v);
                        fputs("\\fR", out);
                }
                fputs(".\n", out);
        }
}

void cli_man_config_print(FILE *out, const CliConfigField *f, size_t n)
{
        const char *section = NULL;
        size_t section_len = 0;

        for (size_t i = 0; i < n; i++) {
                bool inside =
                    section && strneq(f[i].key, section, section_len) && f[i].key[section_len] == '.';

                if (section && !inside) {
                        fputs(".RE\n", out);
                        section = NULL;
                }
                print_field(out, &f[i], inside ? f[i].key + section_len + 1 : f[i].key);
                /* a section's keys ("runtime.type") follow it, indented under it */
                if (!inside && i + 1 < n && strneq(f[i + 1].key, f[i].key, strlen(f[i].key)) &&
                    f[i + 1].key[strlen(f[i].key)] == '.') {
                        section = f[i].key;
                        section_len = strlen(section);
                        fputs(".RS\n", out);
                }
        }
        if (section)
                fputs(".RE\n", out);
}
