#!/bin/bash
# Host containers: runAsUser/runAsGroup, env from a ConfigMap and a Secret, memory limit in
# the container's cgroup, workingDir, no_new_privs, and the RuntimeDefault seccomp filter.
. "$(dirname "$0")/lib.sh"
require_root
start_agent

cat >"$T/sec.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  greeting: hi
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  password: s3cret
---
apiVersion: v1
kind: Pod
metadata:
  name: sec
spec:
  restartPolicy: Never
  securityContext:
    runAsUser: 65534
    runAsGroup: 65534
  containers:
  - name: main
    image: busybox
    workingDir: /tmp
    env:
    - name: GREETING
      valueFrom:
        configMapKeyRef: {name: settings, key: greeting}
    - name: PASSWORD
      valueFrom:
        secretKeyRef: {name: creds, key: password}
    - name: BOTH
      value: "\$(GREETING)-\$(PASSWORD)"
    resources:
      limits:
        memory: 64Mi
    securityContext:
      seccompProfile:
        type: RuntimeDefault
    command: ["/bin/sh", "-c", "id -u; id -g; pwd; echo \$BOTH; grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status; cat /proc/self/cgroup"]
YAML
b apply -f "$T/sec.yaml" >/dev/null || fail "apply"
wait_for 10 "sec Succeeded" pod_phase_is sec Succeeded
log=$(b logs sec)
echo "$log" | sed -n 1p | grep -qx 65534 || fail "uid: $log"
echo "$log" | sed -n 2p | grep -qx 65534 || fail "gid: $log"
echo "$log" | sed -n 3p | grep -qx /tmp || fail "workingDir: $log"
echo "$log" | grep -qx 'hi-s3cret' || fail "env expansion: $log"
echo "$log" | grep -Eq 'NoNewPrivs:\s+1' || fail "no_new_privs: $log"
echo "$log" | grep -Eq 'Seccomp:\s+2' || fail "seccomp filter: $log"
echo "$log" | grep -q "$CGROOT/pod-" || fail "own cgroup: $log"
echo "ok"
