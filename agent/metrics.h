/* The agent's Prometheus text (exposition format 0.0.4): kube-state-metrics families for the
 * objects in the store, berth's own metrics (cron start lateness, CRI call latency, event
 * loop utilisation, process) and the prober's text, rendered for GET /metrics on the API
 * socket and on metricsAddress. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "prober.h"
#include "store.h"
#include "util.h"

/* berth's own counters that live between scrapes: CRI call latency and the cron lateness
 * histogram (each Job counted once, so that the histogram only ever grows). */
typedef struct Metrics Metrics;

/* since (CLOCK_REALTIME): Jobs whose container started before it are not counted in the
 * lateness histogram; an earlier agent process counted them, and counting them again
 * after a restart would show the Jobs kept in the store as fresh starts. 0 counts all. */
int metrics_new(Metrics **ret, usec_t since);
Metrics *metrics_free(Metrics *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Metrics *, metrics_free);

/* One finished CRI call for berth_cri_call_duration_seconds{method,grpc_code}: method as
 * CRI names it ("RunPodSandbox"), grpc_status the call's gRPC status code 0-16 (anything
 * else is reported as "Unknown"). At most METRICS_CRI_MAX_SERIES method/code pairs are
 * kept; calls of further pairs are dropped. */
#define METRICS_CRI_MAX_SERIES 256
void metrics_cri_observe(Metrics *m, const char *method, usec_t duration, int grpc_status);

/* The share of wall time the event loop spends working rather than waiting. It rides on
 * one never-firing timer source's prepare callback, which sd-event calls once per loop
 * iteration just before it waits: the time since the loop last woke up (sd_event_now())
 * is the work of the previous iteration. One clock read per iteration, nothing else. */
typedef struct MetricsLoopMeter MetricsLoopMeter;

#define METRICS_LOOP_WINDOW_USEC (10 * USEC_PER_SEC)

/* window: the span berth_event_loop_utilisation is averaged over (0 = the default). */
int metrics_loop_meter_new(MetricsLoopMeter **ret, sd_event *e, usec_t window);
MetricsLoopMeter *metrics_loop_meter_free(MetricsLoopMeter *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(MetricsLoopMeter *, metrics_loop_meter_free);
/* Busy share of the last complete window (of the current one while none has completed,
 * 0 before the loop has run); now is CLOCK_MONOTONIC. */
double metrics_loop_meter_utilisation(MetricsLoopMeter *m, usec_t now);
/* Time spent working since the meter started. */
usec_t metrics_loop_meter_busy(const MetricsLoopMeter *m);
uint64_t metrics_loop_meter_iterations(const MetricsLoopMeter *m);

/* What a scrape reads. Every member may be NULL: its metrics are left out (without
 * metrics, the cron lateness histogram covers the Jobs in the store at the time). */
typedef struct MetricsSources {
        Store *store;
        Prober *prober; /* prober_metrics_text(), appended as is */
        Metrics *metrics;
        MetricsLoopMeter *loop;
} MetricsSources;

/* The whole text (malloc'd): every family with its HELP and TYPE lines once, families in a
 * fixed order, objects in the store's order (namespace, name). 0 or a negative errno. */
int metrics_render(const MetricsSources *src, char **ret);
