/* The peer of bench/cri.sh: the bare CRI calls a minimal client makes to run a one-container
 * pod (RunPodSandbox, ImageStatus, CreateContainer, StartContainer), one after the other, timed
 * from the first request to StartContainer's answer; then the pod is stopped and removed
 * (not timed). The sandbox and container configs are the ones berth sends for the same Pod
 * (cri-config.h), so that the runtime does the same work for both. Prints one duration in
 * milliseconds per line.
 * Usage: cri-bare ENDPOINT LOG_DIR ROUNDS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cri-client.h"
#include "cri-config.h"
#include "json-util.h"

#define BUSYBOX "docker.io/library/busybox:latest"

typedef struct Reply {
        bool done;
        char *error;
        ProtobufCMessage *response;
} Reply;

static void on_reply(const CriError *error, const void *response, void *userdata)
{
        Reply *r = userdata;
        const ProtobufCMessage *m = response;

        r->done = true;
        if (error) {
                r->error = strdup(error->message);
                return;
        }
        /* a copy that outlives the callback */
        size_t n = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(n ?: 1);
        if (!buf)
                return;
        protobuf_c_message_pack(m, buf);
        r->response = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
        free(buf);
}

static sd_event *event;

static void wait_reply(Reply *r, const char *what)
{
        while (!r->done)
                if (sd_event_run(event, UINT64_MAX) < 0) {
                        fprintf(stderr, "cri-bare: event loop failed\n");
                        exit(1);
                }
        if (r->error) {
                fprintf(stderr, "cri-bare: %s: %s\n", what, r->error);
                exit(1);
        }
}

static void reply_done(Reply *r)
{
        if (r->response)
                protobuf_c_message_free_unpacked(r->response, NULL);
        free(r->error);
        *r = (Reply){0};
}

int main(int argc, char **argv)
{
        CurlLoop *loop = NULL;
        CriClient *client = NULL;
        char *err = NULL;
        int rounds;

        if (argc != 4) {
                fprintf(stderr, "usage: cri-bare ENDPOINT LOG_DIR ROUNDS\n");
                return 2;
        }
        rounds = atoi(argv[3]);
        if (sd_event_new(&event) < 0 || curl_loop_new(&loop, event) < 0 ||
            cri_client_new(&client, loop, &(CriClientOptions){.endpoint = argv[1]}, &err) < 0) {
                fprintf(stderr, "cri-bare: %s\n", err ?: "cannot set up");
                return 1;
        }
        for (int i = 0; i < rounds; i++) {
                char name[64], uid[64], logdir[2048], ctrdir[4096], logpath[4200], pod_json[1024];
                char *argv_[] = {(char *)"/bin/sleep", (char *)"600", NULL};
                Runtime__V1__PodSandboxConfig *sc = NULL;
                Runtime__V1__ContainerConfig *cc = NULL;
                Reply r = {0};
                char *sandbox, *container;
                usec_t t0;

                snprintf(name, sizeof(name), "bare-%d", i);
                snprintf(uid, sizeof(uid), "bare-%d-%d", (int)getpid(), i);
                snprintf(logdir, sizeof(logdir), "%s/default_%s_%s", argv[2], name, uid);
                snprintf(ctrdir, sizeof(ctrdir), "%s/main", logdir);
                snprintf(logpath, sizeof(logpath), "%s/0.log", ctrdir);
                /* the Pod bench/cri.sh applies to berth, as the agent's defaults complete it */
                snprintf(pod_json, sizeof(pod_json),
                         "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"%s\"},"
                         "\"spec\":{\"terminationGracePeriodSeconds\":0,\"restartPolicy\":\"Always\","
                         "\"dnsPolicy\":\"ClusterFirst\",\"containers\":[{\"name\":\"main\","
                         "\"image\":\"busybox\",\"imagePullPolicy\":\"IfNotPresent\","
                         "\"command\":[\"/bin/sleep\",\"600\"],"
                         "\"terminationMessagePath\":\"/dev/termination-log\"}]}}",
                         name, uid);
                cJSON *pod = cJSON_Parse(pod_json);
                RuntimeContainerConfig cfg = {.pod_uid = uid,
                                              .pod_name = name,
                                              .pod_namespace = "default",
                                              .container_name = "main",
                                              .image = "busybox",
                                              .argv = argv_,
                                              .n_command = 2,
                                              .log_path = logpath,
                                              .seccomp_runtime_default = true,
                                              .pod = pod,
                                              .container =
                                                  cJSON_GetArrayItem(json_path(pod, "spec.containers"), 0)};
                if (!pod ||
                    cri_sandbox_config_new(
                        &(CriSandboxParams){.pod = pod, .log_directory = logdir, .instance = "cri-bare"},
                        &sc, &err) < 0 ||
                    cri_container_config_new(&(CriContainerParams){.cfg = &cfg,
                                                                   .log_directory = logdir,
                                                                   .instance = "cri-bare",
                                                                   .seccomp_root = "/nonexistent",
                                                                   .image = BUSYBOX},
                                             &cc, &err) < 0) {
                        fprintf(stderr, "cri-bare: configs: %s\n", err ?: "failed");
                        return 1;
                }
                (void)mkdir_p(ctrdir, 0755); /* as berth does before CreateContainer */

                t0 = now_usec(CLOCK_MONOTONIC);
                cri_client_run_pod_sandbox(client, sc, NULL, 0, on_reply, &r, NULL);
                wait_reply(&r, "RunPodSandbox");
                sandbox = strdup(((Runtime__V1__RunPodSandboxResponse *)r.response)->pod_sandbox_id);
                reply_done(&r);
                cri_client_image_status(client, BUSYBOX, false, 0, on_reply, &r, NULL);
                wait_reply(&r, "ImageStatus");
                reply_done(&r);
                cri_client_create_container(client, sandbox, cc, sc, 0, on_reply, &r, NULL);
                wait_reply(&r, "CreateContainer");
                container = strdup(((Runtime__V1__CreateContainerResponse *)r.response)->container_id);
                reply_done(&r);
                cri_client_start_container(client, container, 0, on_reply, &r, NULL);
                wait_reply(&r, "StartContainer");
                reply_done(&r);
                printf("%.3f\n", (double)(now_usec(CLOCK_MONOTONIC) - t0) / 1000.0);
                fflush(stdout);

                cri_client_stop_container(client, container, 0, 0, on_reply, &r, NULL);
                wait_reply(&r, "StopContainer");
                reply_done(&r);
                cri_client_remove_container(client, container, 0, on_reply, &r, NULL);
                wait_reply(&r, "RemoveContainer");
                reply_done(&r);
                cri_client_stop_pod_sandbox(client, sandbox, 0, on_reply, &r, NULL);
                wait_reply(&r, "StopPodSandbox");
                reply_done(&r);
                cri_client_remove_pod_sandbox(client, sandbox, 0, on_reply, &r, NULL);
                wait_reply(&r, "RemovePodSandbox");
                reply_done(&r);
                free(sandbox);
                free(container);
                cri_config_free(sc);
                cri_config_free(cc);
                cJSON_Delete(pod);
        }
        cri_client_free(client);
        curl_loop_free(loop);
        sd_event_unref(event);
        return 0;
}
