#!/bin/bash
# Pod volumes with the real agent: an emptyDir shared by two containers, a Memory emptyDir
# on a tmpfs, hostPath volumes (and a FailedMount for the wrong type), a configMap with
# items projected anew after the ConfigMap changes, a secret on a tmpfs, readOnly mounts,
# subPaths that may not escape; after the pods are gone no mount or pod dir is left.
. "$(dirname "$0")/lib.sh"
require_root
start_agent

M=$T/m # mount points: the host runtime creates them on the host
PODS=$T/state/pods
logs_have() { b logs "$1" -c "$2" 2>/dev/null | grep -q -- "$3"; }
uid_of() { pod_field "$1" 'd["metadata"]["uid"]'; }
host_mounts() { grep -c " $1 " /proc/self/mountinfo; }

mkdir -p "$T/hp" "$T/hp2"
echo "from the host" >"$T/hp/seen"
ln -s / "$T/hp2/esc"

cat >"$T/cm.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: one, b: two}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {token: $(printf 's3cr3t' | base64)}
YAML
b apply -f "$T/cm.yaml" >/dev/null || fail "apply configmap and secret"

cat >"$T/vols.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: vols}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: shared, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
  - {name: hp, hostPath: {path: $T/hp, type: Directory}}
  - name: cfg
    configMap:
      name: cfg
      items: [{key: a, path: sub/a.txt}]
  - {name: sec, secret: {secretName: sec}}
  containers:
  - name: writer
    image: busybox
    command: ["/bin/sh", "-c", "echo hello > $M/shared/msg; touch $M/ro/x 2>/dev/null && echo ro=WROTE || echo ro=REFUSED; exec sleep 600"]
    volumeMounts:
    - {name: shared, mountPath: $M/shared}
    - {name: shared, mountPath: $M/ro, readOnly: true}
  - name: reader
    image: busybox
    command:
    - /bin/sh
    - -c
    - |
      while [ ! -f $M/shared2/msg ]; do sleep 0.1; done
      echo "shared=\$(cat $M/shared2/msg)"
      echo "hp=\$(cat $M/hp/seen)"
      echo "sec=\$(cat $M/sec/token)"
      grep " $M/mem " /proc/self/mountinfo | sed 's/^/mem: /'
      grep " $M/sec " /proc/self/mountinfo | sed 's/^/secmnt: /'
      last=
      while :; do
        c=\$(cat $M/cfg/sub/a.txt 2>/dev/null)
        [ "\$c" != "\$last" ] && echo "cfg=\$c" && last=\$c
        sleep 0.2
      done
    volumeMounts:
    - {name: shared, mountPath: $M/shared2}
    - {name: mem, mountPath: $M/mem}
    - {name: hp, mountPath: $M/hp}
    - {name: cfg, mountPath: $M/cfg}
    - {name: sec, mountPath: $M/sec}
YAML
b apply -f "$T/vols.yaml" >/dev/null || fail "apply vols"
wait_for 15 "vols running" pod_phase_is vols Running
uid=$(uid_of vols)
wait_for 10 "the reader sees what the writer wrote" logs_have vols reader "shared=hello"
logs_have vols writer "ro=REFUSED" || fail "a readOnly mount was writable: $(b logs vols -c writer)"
[ "$(cat "$PODS/$uid/volumes/kubernetes.io~empty-dir/shared/msg")" = hello ] ||
        fail "the emptyDir is not in the pod's directory"
logs_have vols reader "hp=from the host" || fail "hostPath: $(b logs vols -c reader)"
logs_have vols reader "sec=s3cr3t" || fail "secret content: $(b logs vols -c reader)"
logs_have vols reader "mem: .* - tmpfs .*size=16384k" || fail "Memory emptyDir: $(b logs vols -c reader)"
logs_have vols reader "secmnt: .* - tmpfs " || fail "secret volume is no tmpfs: $(b logs vols -c reader)"
wait_for 5 "configMap item" logs_have vols reader "cfg=one"
[ ! -e "$PODS/$uid/volumes/kubernetes.io~configmap/cfg/b" ] || fail "a key outside items was projected"
[ "$(host_mounts "$PODS/$uid/volumes/kubernetes.io~secret/sec")" = 1 ] || fail "secret dir is no tmpfs on the host"

# --- the ConfigMap changes: projected anew in place
sed -i 's/a: one/a: uno/' "$T/cm.yaml"
b apply -f "$T/cm.yaml" >/dev/null || fail "apply changed configmap"
wait_for 5 "the changed ConfigMap in the volume" logs_have vols reader "cfg=uno"

# --- an agent restart sets the volumes up again without stacking mounts
stop_agent TERM
start_agent
sleep 2
pod_phase_is vols Running || fail "vols not running after the agent restarted"
[ "$(host_mounts "$PODS/$uid/volumes/kubernetes.io~empty-dir/mem")" = 1 ] || fail "Memory emptyDir mounted twice"
[ "$(host_mounts "$PODS/$uid/volumes/kubernetes.io~secret/sec")" = 1 ] || fail "secret tmpfs mounted twice"

# --- a hostPath of the wrong type: FailedMount, nothing starts
cat >"$T/badhp.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: badhp}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: hp, hostPath: {path: $T/hp/seen, type: Directory}}]
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "exec sleep 600"]
    volumeMounts: [{name: hp, mountPath: $M/badhp}]
YAML
b apply -f "$T/badhp.yaml" >/dev/null || fail "apply badhp"
wait_for 10 "FailedMount event" sh -c "$BERTH get events 2>&1 | grep -q 'FailedMount.*pod/badhp.*MountVolume.SetUp failed for volume \"hp\" : hostPath type check failed: $T/hp/seen is not a directory'"
sleep 1
[ "$(pod_field badhp 'd["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]')" = ContainerCreating ] ||
        fail "badhp: $(pod_field badhp 'd["status"]')"
pod_phase_is badhp Pending || fail "badhp is not Pending"

# --- a missing ConfigMap, then a missing claim: FailedMount in the kubelet's words
cat >"$T/nocm.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: nocm}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: c, configMap: {name: missing}}, {name: claim, persistentVolumeClaim: {claimName: x}}]
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "exec sleep 600"]
YAML
b apply -f "$T/nocm.yaml" >/dev/null || fail "apply nocm"
wait_for 10 "configmap not found" sh -c "$BERTH get events 2>&1 | grep -q 'FailedMount.*pod/nocm.*MountVolume.SetUp failed for volume \"c\" : configmap \"missing\" not found'"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: missing}\ndata: {k: v}\n' | b apply -f - >/dev/null ||
        fail "apply missing"
wait_for 10 "claim not found" sh -c "$BERTH get events 2>&1 | grep -q 'FailedMount.*pod/nocm.*MountVolume.SetUp failed for volume \"claim\" : persistentvolumeclaim \"x\" not found'"

# --- subPath: '..' is refused at admission, an escape through a symlink at start
cat >"$T/dotdot.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: dotdot}
spec:
  volumes: [{name: v, emptyDir: {}}]
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "exec sleep 600"]
    volumeMounts: [{name: v, mountPath: $M/dotdot, subPath: ../x}]
YAML
b apply -f "$T/dotdot.yaml" >"$T/out" 2>&1 && fail "a subPath with .. was accepted"
grep -q "must not contain '..'" "$T/out" || fail "dotdot: $(cat "$T/out")"
cat >"$T/esc.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: esc}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: v, hostPath: {path: $T/hp2}}]
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "exec sleep 600"]
    volumeMounts: [{name: v, mountPath: $M/esc, subPath: esc/etc}]
  - name: sub
    image: busybox
    command: ["/bin/sh", "-c", "ls $M/sub; exec sleep 600"]
    volumeMounts: [{name: v, mountPath: $M/sub, subPath: made/here}]
YAML
b apply -f "$T/esc.yaml" >/dev/null || fail "apply esc"
wait_for 10 "CreateContainerConfigError for the escape" sh -c "$BERTH get pod esc -o json | grep -q CreateContainerConfigError"
pod_field esc 'd["status"]["containerStatuses"][0]["state"]["waiting"]["message"]' | grep -q 'failed to prepare subPath for volumeMount "v" of container "main"' ||
        fail "esc: $(pod_field esc 'd["status"]["containerStatuses"][0]')"
[ -d "$T/hp2/made/here" ] || fail "a subPath that stays inside was not created"

# --- after the pods are gone, no mount and no pod dir is left
b delete pods --all --grace-period=1 --timeout=30s >/dev/null || fail "delete pods"
wait_for 10 "pod dirs removed" sh -c "[ -z \"\$(ls -A $PODS 2>/dev/null)\" ]"
if grep -q " $T/" /proc/self/mountinfo; then
        grep " $T/" /proc/self/mountinfo >&2
        fail "mounts of the test are left"
fi
[ -f "$T/hp/seen" ] || fail "the hostPath's content went with the pod"
echo "ok"
