#!/bin/bash
# The cri runtime against a real containerd (lib-containerd.sh): a pod runs in a sandbox and
# its logs read back; an exec readiness probe through ExecSync; the image's entrypoint when
# the pod gives no command; restartPolicy with the crash-loop back-off and `logs --previous`;
# ErrImageNeverPull; a container that cannot start; SIGKILL of the agent re-adopts the same
# container ids; containerd restarting under the agent; deletion leaves no container or
# sandbox in containerd; a missing socket is refused at start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-containerd.sh"
require_root
start_containerd
AGENT_CONFIG_EXTRA="runtime: {type: cri, endpoint: unix://$CTD_SOCK}
"
# the agent removes sandboxes in the background after their pods: let it finish at exit
drain_containerd() { for _ in $(seq 1 100); do [ -z "$(CTR containers ls -q)" ] && return; sleep 0.1; done; }
CLEANUP_DRAIN_HOOKS+=(drain_containerd)
start_agent

cstatus() { pod_field "$1" "d['status']['containerStatuses'][0]$2"; }
ready_of() { pod_field "$1" '[c["status"] for c in d["status"]["conditions"] if c["type"]=="Ready"][0]'; }
is_ready() { [ "$(ready_of "$1")" = True ]; }
# containerd's own view: its containers, sandboxes (pause containers) included
ctd_count() { CTR containers ls -q | wc -l; }
restarts_at_least() { [ "$(cstatus "$1" "['restartCount']" 2>/dev/null || echo 0)" -ge "$2" ]; }
waiting_is() { [ "$(cstatus "$1" ".get('state',{}).get('waiting',{}).get('reason','')" 2>/dev/null)" = "$2" ]; }
ctd_empty() { [ "$(ctd_count)" = 0 ]; }

# --- a pod runs, its logs read back, an exec probe makes it ready
cat >"$T/hello.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: hello, labels: {app: hello}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c"]
    args: ["echo hello from $(POD_NAME); echo to stderr >&2; sleep 1; touch /tmp/ready; exec sleep 600"]
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    readinessProbe:
      exec: {command: ["/bin/sh", "-c", "test -f /tmp/ready"]}
      periodSeconds: 1
YAML
b apply -f "$T/hello.yaml" >/dev/null || fail "apply hello"
wait_for 30 "hello Running" pod_phase_is hello Running
wait_for 20 "hello Ready through the exec probe" is_ready hello
cid=$(cstatus hello "['containerID']")
case $cid in containerd://*) ;; *) fail "containerID should name containerd: $cid" ;; esac
CTR containers ls -q | grep -qx "${cid#containerd://}" || fail "containerd does not know $cid"
b logs hello >"$T/hello.log" 2>&1
grep -qx "hello from hello" "$T/hello.log" || fail "logs: $(cat "$T/hello.log")"
grep -qx "to stderr" "$T/hello.log" || fail "stderr missing from the logs: $(cat "$T/hello.log")"
cstatus hello "['imageID']" | grep -q "^sha256:" || fail "imageID: $(cstatus hello "['imageID']")"
echo "PASS: pod runs in containerd ($cid), logs, exec probe"

# --- the sandbox has an address of its own (the CNI bridge), which httpGet probes reach
cat >"$T/web.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "echo ok >/tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
    readinessProbe:
      httpGet: {path: /index.html, port: 8080}
      periodSeconds: 1
YAML
b apply -f "$T/web.yaml" >/dev/null || fail "apply web"
wait_for 30 "web Ready through an httpGet probe on its own address" is_ready web
ip=$(pod_field web 'd["status"]["podIP"]')
case $ip in 127.*|"") fail "podIP should be the sandbox's, not $ip" ;; esac
curl -fsS "http://$ip:8080/index.html" | grep -qx ok || fail "the pod does not answer on $ip:8080"
echo "PASS: pod address $ip, httpGet probe"

# --- no command: the image's entrypoint (/bin/sh) runs the args
cat >"$T/entry.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: entry}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    args: ["-c", "echo entrypoint ran; hostname"]
YAML
b apply -f "$T/entry.yaml" >/dev/null || fail "apply entry"
wait_for 30 "entry Succeeded" pod_phase_is entry Succeeded
b logs entry | grep -qx "entrypoint ran" || fail "entry logs: $(b logs entry 2>&1)"
b logs entry | grep -qx "entry" || fail "the sandbox's hostname should be the pod name: $(b logs entry 2>&1)"
echo "PASS: image entrypoint, hostname"

# --- restartPolicy Always: restarts with back-off, --previous shows the last run
cat >"$T/crash.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "echo run at $(date +%s%N); exit 3"]
YAML
b apply -f "$T/crash.yaml" >/dev/null || fail "apply crash"
wait_for 40 "crash restarted twice" restarts_at_least crash 2
wait_for 20 "CrashLoopBackOff" waiting_is crash CrashLoopBackOff
[ "$(cstatus crash "['lastState']['terminated']['exitCode']")" = 3 ] || fail "lastState exit code"
b logs crash --previous | grep -q "^run at" || fail "logs --previous: $(b logs crash --previous 2>&1)"
echo "PASS: restart, CrashLoopBackOff, logs --previous"

# --- pullPolicy Never and an absent image: ErrImageNeverPull, the agent goes on
cat >"$T/never.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: never}
spec:
  containers:
  - name: main
    image: docker.io/library/not-here:1
    imagePullPolicy: Never
    command: ["/bin/true"]
YAML
b apply -f "$T/never.yaml" >/dev/null || fail "apply never"
wait_for 20 "ErrImageNeverPull" waiting_is never ErrImageNeverPull
cstatus never "['state']['waiting']['message']" | grep -q 'not present with pull policy of Never' ||
        fail "ErrImageNeverPull message: $(cstatus never "['state']['waiting']")"
echo "PASS: ErrImageNeverPull"

# --- a command that does not exist: the runtime's StartError, restarted with back-off
cat >"$T/nocmd.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: nocmd}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["/no/such/binary"]
YAML
b apply -f "$T/nocmd.yaml" >/dev/null || fail "apply nocmd"
wait_for 30 "nocmd Failed" pod_phase_is nocmd Failed
[ "$(cstatus nocmd "['state']['terminated']['exitCode']")" = 128 ] || fail "start failure exit code: $(cstatus nocmd "['state']")"
[ "$(cstatus nocmd "['state']['terminated']['reason']")" = StartError ] || fail "start failure reason: $(cstatus nocmd "['state']")"
echo "PASS: StartError"

# --- SIGKILL of the agent: the same containers are adopted, nothing is recreated
before=$(ctd_count)
restarts=$(cstatus hello "['restartCount']")
stop_agent KILL
start_agent
sleep 3
[ "$(cstatus hello "['containerID']")" = "$cid" ] || fail "container id changed after the agent restart"
[ "$(cstatus hello "['restartCount']")" = "$restarts" ] || fail "restartCount changed after the agent restart"
wait_for 20 "hello Ready again" is_ready hello
[ "$(ctd_count)" -le "$before" ] || fail "containers were added: $before -> $(ctd_count)"
grep -q "Found container\|Container runtime containerd" "$T/agent.log" || fail "the agent did not talk to containerd"
echo "PASS: agent SIGKILL re-adopts $cid"

# --- containerd restarts under the running agent
restart_containerd
sleep 3
[ "$(cstatus hello "['containerID']")" = "$cid" ] || fail "container id changed across a containerd restart"
pod_phase_is hello Running || fail "hello not Running after a containerd restart"
b apply -f - >/dev/null <<'YAML' || fail "apply after"
apiVersion: v1
kind: Pod
metadata: {name: after}
spec:
  restartPolicy: Never
  containers:
  - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: ["/bin/sh", "-c", "echo after"]}
YAML
wait_for 30 "a new pod after the containerd restart" pod_phase_is after Succeeded
kill -0 "$AGENT_PID" || fail "the agent died"
echo "PASS: containerd restart survived"

# --- deleting the pods leaves nothing in containerd
b delete pods --all --grace-period=1 --timeout=30s >/dev/null || fail "delete all"
wait_for 20 "no container or sandbox left in containerd" ctd_empty
echo "PASS: nothing left after delete"

# --- a missing socket: the agent refuses to start, in words
stop_agent TERM
printf 'runtime: {type: cri, endpoint: unix://%s/nope.sock}\n' "$T" >"$T/bad.yaml"
"$BERTH" agent --config "$T/bad.yaml" --state-dir "$T/state2" --socket "$T/bad.sock" \
        --log-dir "$T/logs2" --node-name "$NODE" >"$T/bad.log" 2>&1 && fail "the agent started without a runtime"
grep -q "nope.sock: no such socket" "$T/bad.log" || fail "missing socket message: $(cat "$T/bad.log")"
echo "PASS: missing socket refused"
echo "PASS: test-cri"
