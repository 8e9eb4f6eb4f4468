#!/bin/bash
# PersistentVolumeClaims with the real agent, real loop devices, ext4 and mounts: claims bound
# to volumes provisioned from storage classes (dir, loop), data that outlives its pod, the
# agent SIGKILLed between a loop device's attach and its mount, expansion, a volumeMode
# Block claim, the reclaim policies, pvc-protection, and claims that cannot be provisioned.
# After every part no mount and no loop device of the test remains (lib.sh checks at exit).
. "$(dirname "$0")/lib.sh"
require_root
command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 is not installed (e2fsprogs)"

S=$T/storage
AGENT_CONFIG_EXTRA="storageClasses:
  local: {type: dir, path: $S/dir}
  fast: {type: loop, path: $S/loop, fsType: ext4, maxSize: 1Gi}
  keep: {type: loop, path: $S/keep, reclaimPolicy: Retain}
defaultStorageClass: local
"
start_agent

M=$T/m
claim_field() { b get pvc "$1" -o json | jget "$2"; }
claim_phase_is() { [ "$(claim_field "$1" 'd.get("status",{}).get("phase","")')" = "$2" ]; }
gone() { ! b get "$1" "$2" >/dev/null 2>&1; }
events_have() { b get events 2>&1 | grep -q -- "$1"; }
loops_of() { losetup -j "$1" | wc -l; }
mounts_at() { grep -c " $1 " /proc/self/mountinfo; }

claim() { # name class size [volumeMode]
        cat <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: $1}
spec:
  storageClassName: $2
  accessModes: [ReadWriteOnce]
  volumeMode: ${4:-Filesystem}
  resources: {requests: {storage: $3}}
YAML
}

user_pod() { # name claim command [restartPolicy]
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  restartPolicy: ${4:-Never}
  terminationGracePeriodSeconds: 1
  volumes: [{name: data, persistentVolumeClaim: {claimName: $2}}]
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "$3"]
    volumeMounts: [{name: data, mountPath: $M/$1}]
YAML
}

# --- the default class (a directory): bound, written, read back by another pod
claim home "" 16Mi | sed '/storageClassName/d' | b apply -f - >/dev/null || fail "apply claim home"
wait_for 10 "home bound" claim_phase_is home Bound
[ "$(claim_field home 'd["spec"]["storageClassName"]')" = local ] || fail "home did not get the default class"
pv=$(claim_field home 'd["spec"]["volumeName"]')
[ -d "$S/dir/$pv" ] || fail "no directory for $pv"
user_pod w1 home "echo kept > $M/w1/f" | b apply -f - >/dev/null || fail "apply w1"
wait_for 15 "w1 done" pod_phase_is w1 Succeeded
user_pod r1 home "cat $M/r1/f" | b apply -f - >/dev/null || fail "apply r1"
wait_for 15 "r1 done" pod_phase_is r1 Succeeded
[ "$(b logs r1)" = kept ] || fail "r1 read: $(b logs r1)"
b get pvc home | grep -Eq "^home +Bound +$pv +16Mi +RWO +local " || fail "get pvc: $(b get pvc home)"

# --- a loop-backed ext4 claim: attached and mounted once, bound per pod
claim data fast 64Mi | b apply -f - >/dev/null || fail "apply claim data"
wait_for 30 "data bound" claim_phase_is data Bound
dpv=$(claim_field data 'd["spec"]["volumeName"]')
img=$S/loop/$dpv.img
[ -f "$img" ] || fail "no image for $dpv"
[ "$(stat -c %s "$img")" = $((64 << 20)) ] || fail "image size $(stat -c %s "$img")"
[ "$(loops_of "$img")" = 0 ] || fail "the image stays attached with no pod using it"
user_pod w2 data "echo persist > $M/w2/f; df -k $M/w2 | tail -n1; exec sleep 600" Always | b apply -f - >/dev/null ||
        fail "apply w2"
wait_for 15 "w2 running" pod_phase_is w2 Running
wait_for 5 "w2 wrote" test -s "$T/state/volumes/$dpv/f"
[ "$(loops_of "$img")" = 1 ] || fail "loop devices of the image: $(losetup -j "$img")"
dev=$(losetup -j "$img" | cut -d: -f1)
[ "$(grep -c " $dev " /proc/self/mountinfo)" = 2 ] || fail "mounts of $dev: $(grep " $dev " /proc/self/mountinfo)"
[ "$(blkid -o value -s TYPE "$dev")" = ext4 ] || fail "no ext4 on $dev"
b get pv "$dpv" | grep -Eq "^$dpv +64Mi +RWO +Delete +Bound +default/data +fast " || fail "get pv: $(b get pv "$dpv")"

# --- the claim is in use: deleting it waits for the pod (kubernetes.io/pvc-protection)
b delete pvc data --wait=false >/dev/null || fail "delete pvc data"
wait_for 10 "data terminating" sh -c "$BERTH get pvc data 2>/dev/null | grep -q Terminating"
sleep 1
b get pvc data >/dev/null 2>&1 || fail "a claim in use went away"
[ -f "$img" ] || fail "the image of a claim in use went away"

# --- SIGKILL between the attach and the mount: the restarted agent reuses the attach
claim data2 fast 32Mi | b apply -f - >/dev/null || fail "apply claim data2"
wait_for 30 "data2 bound" claim_phase_is data2 Bound
pv2=$(claim_field data2 'd["spec"]["volumeName"]')
img2=$S/loop/$pv2.img
stop_agent TERM
BERTH_TEST_FAULT=kill-after-attach start_agent
user_pod c1 data2 "echo crash-safe > $M/c1/f; exec sleep 600" Always | b apply -f - >/dev/null 2>&1
for _ in $(seq 1 100); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$AGENT_PID" 2>/dev/null && fail "the fault did not kill the agent"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
[ "$(loops_of "$img2")" = 1 ] || fail "after the kill: $(losetup -j "$img2")"
[ "$(mounts_at "$T/state/volumes/$pv2")" = 0 ] || fail "mounted before the kill?"
start_agent
wait_for 15 "c1 running" pod_phase_is c1 Running
[ "$(loops_of "$img2")" = 1 ] || fail "loop devices after the restart: $(losetup -j "$img2")"
[ "$(mounts_at "$T/state/volumes/$pv2")" = 1 ] || fail "global mounts: $(mounts_at "$T/state/volumes/$pv2")"
wait_for 5 "c1 wrote" test -s "$T/state/volumes/$pv2/f"

# --- the pods go: the claim data is deleted (Delete), its image and loop device too
b delete pod w2 c1 --grace-period=1 --timeout=20s >/dev/null || fail "delete w2 c1"
wait_for 20 "data deleted" gone pvc data
wait_for 20 "its volume deleted" gone pv "$dpv"
[ ! -e "$img" ] || fail "the image of a deleted claim (Delete) is left"
wait_for 10 "data2 unpublished" sh -c "[ \$(losetup -j $img2 | wc -l) = 0 ]"

# --- expansion: 32Mi -> 96Mi, then a pod sees the bigger file system and the data
claim data2 fast 96Mi | b apply -f - >/dev/null || fail "grow data2"
wait_for 30 "data2 at 96Mi" sh -c "$BERTH get pvc data2 | grep -q ' 96Mi '"
[ "$(stat -c %s "$img2")" = $((96 << 20)) ] || fail "image not grown: $(stat -c %s "$img2")"
user_pod r2 data2 "cat $M/r2/f; df -k $M/r2 | tail -n1" | b apply -f - >/dev/null || fail "apply r2"
wait_for 15 "r2 done" pod_phase_is r2 Succeeded
b logs r2 | grep -q crash-safe || fail "data lost across the expansion: $(b logs r2)"
kb=$(b logs r2 | tail -n1 | awk '{print $2}')
[ "$kb" -gt 80000 ] || fail "file system not grown: $(b logs r2)"
events_have "FileSystemResizeSuccessful" || fail "no FileSystemResizeSuccessful event"

# --- volumeMode Block: the device itself at devicePath
claim raw fast 16Mi Block | b apply -f - >/dev/null || fail "apply claim raw"
wait_for 30 "raw bound" claim_phase_is raw Bound
cat >"$T/blk.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: blk}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes: [{name: raw, persistentVolumeClaim: {claimName: raw}}]
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "test -b $M/blkdev && echo is-block"]
    volumeDevices: [{name: raw, devicePath: $M/blkdev}]
YAML
b apply -f "$T/blk.yaml" >/dev/null || fail "apply blk"
wait_for 15 "blk done" pod_phase_is blk Succeeded
[ "$(b logs blk)" = is-block ] || fail "blk: $(b logs blk)"
rawimg=$S/loop/$(claim_field raw 'd["spec"]["volumeName"]').img
[ -z "$(blkid -p "$rawimg" 2>/dev/null)" ] || fail "a Block claim got a file system"

# --- Retain: the volume is Released and its data kept, also after the PV is deleted
claim kept keep 8Mi | b apply -f - >/dev/null || fail "apply claim kept"
wait_for 30 "kept bound" claim_phase_is kept Bound
kpv=$(claim_field kept 'd["spec"]["volumeName"]')
b delete pvc kept >/dev/null || fail "delete kept"
wait_for 10 "kept released" sh -c "$BERTH get pv $kpv | grep -q Released"
[ -f "$S/keep/$kpv.img" ] || fail "Retain lost the image"
b delete pv "$kpv" >/dev/null || fail "delete pv $kpv"
wait_for 10 "pv $kpv gone" gone pv "$kpv"
[ -f "$S/keep/$kpv.img" ] || fail "deleting a Retain volume lost its data"

# --- claims that cannot be provisioned: clear events, nothing made
claim nosc nosuch 8Mi | b apply -f - >/dev/null || fail "apply nosc"
wait_for 10 "class not found" events_have 'storageclass.storage.k8s.io "nosuch" not found'
claim big fast 2Gi | b apply -f - >/dev/null || fail "apply big"
wait_for 10 "more than maxSize" events_have 'requested 2Gi is more than storage class fast allows (maxSize 1Gi)'
claim huge local 1Pi | b apply -f - >/dev/null || fail "apply huge"
wait_for 10 "more than the disk" events_have "requested 1Pi but $S/dir has only"
claim_phase_is nosc Pending && claim_phase_is big Pending && claim_phase_is huge Pending || fail "a bad claim is not Pending"
[ -z "$(b get pv -o json | jget '[i["spec"]["claimRef"]["name"] for i in d["items"] if i["spec"]["claimRef"]["name"] in ("nosc","big","huge")]' | tr -d '[]')" ] ||
        fail "a volume was made for a bad claim"
b apply -f - >"$T/out" 2>&1 <<YAML && fail "a PersistentVolume was accepted from a user"
apiVersion: v1
kind: PersistentVolume
metadata: {name: mine}
spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /tmp}}
YAML
grep -q "persistent volumes are provisioned by the agent" "$T/out" || fail "PV apply: $(cat "$T/out")"

# --- everything goes: no volume, image, mount or loop device is left
b delete pods --all --grace-period=1 --timeout=20s >/dev/null || fail "delete pods"
b delete pvc --all >/dev/null || fail "delete claims"
wait_for 30 "all volumes gone" sh -c "[ -z \"\$($BERTH get pv -o name 2>/dev/null)\" ]"
[ -z "$(find "$S/loop" "$S/dir" -mindepth 1 2>/dev/null)" ] || fail "storage left: $(find "$S" -mindepth 1)"
rm -f "$S/keep/$kpv.img"
echo "ok"
