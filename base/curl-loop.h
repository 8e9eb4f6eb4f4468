/* libcurl's multi interface on the agent's sd-event loop. Every HTTP and gRPC call the agent
 * makes (probes, lifecycle hooks, later CRI and etcd) is an easy handle added here; curl's
 * sockets and its timer become sd-event sources, and a finished transfer is handed back
 * through its callback. Nothing here blocks the loop. */
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct CurlLoop CurlLoop;

/* Called on the loop, once, when a transfer ends (result CURLE_OK or the error). The easy
 * handle is still valid inside the callback (read CURLINFO_*) and is cleaned up by the loop
 * after the callback returns. */
typedef void (*curl_loop_done_t)(CurlLoop *l, CURL *easy, CURLcode result, void *userdata);

int curl_loop_new(CurlLoop **ret, sd_event *e);
/* Cancels every transfer still in flight (without calling their callbacks) and frees. */
CurlLoop *curl_loop_free(CurlLoop *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(CurlLoop *, curl_loop_free);

/* Starts a transfer. On success the loop owns easy; done is called later on the loop,
 * never from inside this call. On failure the caller still owns easy. */
int curl_loop_add(CurlLoop *l, CURL *easy, curl_loop_done_t done, void *userdata);
/* Stops a transfer in flight and cleans up its easy handle; done is not called. */
void curl_loop_cancel(CurlLoop *l, CURL *easy);
size_t curl_loop_in_flight(const CurlLoop *l);
/* The loop the transfers run on (for timers and defer sources of the callers). */
sd_event *curl_loop_get_event(const CurlLoop *l);
