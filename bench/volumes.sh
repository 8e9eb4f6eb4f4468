#!/bin/bash
# Persistent volumes, side by side with the bare commands on the same machine:
#  1. a 1 GiB loop-backed ext4 claim provisioned (apply to Bound), then mounted for a pod
#     (apply to Running), median of ROUNDS (10); peer: truncate + losetup + mkfs.ext4 +
#     mount by hand, and the same pod without the claim (what the mount adds to a start)
#  2. re-mounting the existing volume for a new pod (its previous pod deleted, so the volume
#     was unmounted and its loop device detached), median of ROUNDS; peer: losetup + mount
#  3. N (200) pods, each with an emptyDir and a claim of its own (loop, 16Mi): the mounts
#     the agent holds and its RSS
# Needs root. Prints figures; asserts nothing about time.
set -u
BERTH=$(readlink -f "${1:-build/agent/berth}")
ROUNDS=${ROUNDS:-10}
N=${N:-200}
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
command -v mkfs.ext4 >/dev/null || { echo "bench: needs mkfs.ext4" >&2; exit 1; }
T=$(mktemp -d /tmp/berth-vol-bench.XXXXXX)
chmod 755 "$T"
export BERTH_SOCKET=$T/berth.sock
AGENT=
cleanup() {
        if [ -n "$AGENT" ]; then
                "$BERTH" delete pods --all --grace-period=1 --timeout=300s >/dev/null 2>&1
                "$BERTH" delete pvc --all --timeout=300s >/dev/null 2>&1
                kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null
        fi
        grep " $T/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
        losetup -l -n -O NAME,BACK-FILE | awk -v t="$T/" 'index($2, t) == 1 {print $1}' | xargs -r -n1 losetup -d
        for d in /sys/fs/cgroup/*/berth-volbench; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
        rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/state" "$T/manifests" "$T/logs"
cat >"$T/config.yaml" <<YAML
cgroupRoot: berth-volbench
logLevel: warning
storageClasses:
  loop: {type: loop, path: $T/images, fsType: ext4}
defaultStorageClass: loop
YAML
"$BERTH" agent --config "$T/config.yaml" --state-dir "$T/state" --socket "$BERTH_SOCKET" \
        --manifests-dir "$T/manifests" --log-dir "$T/logs" --node-name bench >"$T/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 100); do "$BERTH" version >/dev/null 2>&1 && break; sleep 0.1; done

python3 - "$BERTH" "$BERTH_SOCKET" "$T" "$ROUNDS" "$N" "$AGENT" <<'PY'
import http.client, json, os, socket, statistics, subprocess, sys, time

berth, sock, T, rounds, n, agent = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]

class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sock)

def get(path):
    c = Conn("localhost")
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return json.loads(body) if r.status == 200 else None

def apply(text):
    subprocess.run([berth, "apply", "-f", "-"], input=text.encode(), check=True, stdout=subprocess.DEVNULL)

def until(what, check, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.002)
    sys.exit(f"bench: timed out waiting for {what}")

def claim_phase(name):
    o = get(f"/api/v1/namespaces/default/persistentvolumeclaims/{name}")
    return o and o.get("status", {}).get("phase")

def pod_phase(name):
    o = get(f"/api/v1/namespaces/default/pods/{name}")
    return o and o.get("status", {}).get("phase")

def claim(name, size):
    return f"""apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}}}
spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: {size}}}}}}}
"""

def pod(name, claim_name=None, empty_dir=False):
    vols, mounts = [], []
    if claim_name:
        vols.append(f"{{name: data, persistentVolumeClaim: {{claimName: {claim_name}}}}}")
        mounts.append(f"{{name: data, mountPath: {T}/m/{name}/data}}")
    if empty_dir:
        vols.append("{name: scratch, emptyDir: {}}")
        mounts.append(f"{{name: scratch, mountPath: {T}/m/{name}/scratch}}")
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{", ".join(vols)}]
  containers:
  - name: main
    image: busybox
    command: ["/bin/sleep", "3600"]
    volumeMounts: [{", ".join(mounts)}]
"""

def delete(kind, name):
    subprocess.run([berth, "delete", kind, name, "--grace-period=1", "--timeout=60s"], check=True,
                   stdout=subprocess.DEVNULL)

def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()

def ms(v):
    return f"{statistics.median(v) * 1000:.1f} ms"

provision, mount, plain, remount = [], [], [], []
peer_make, peer_remount = [], []
for i in range(rounds):
    # berth: the claim, then a pod that mounts it
    t = time.monotonic()
    apply(claim(f"big{i}", "1Gi"))
    until("claim Bound", lambda: claim_phase(f"big{i}") == "Bound")
    provision.append(time.monotonic() - t)
    t = time.monotonic()
    apply(pod(f"user{i}", f"big{i}"))
    until("pod Running", lambda: pod_phase(f"user{i}") == "Running")
    mount.append(time.monotonic() - t)
    # the same pod without the claim: what a start costs anyway
    t = time.monotonic()
    apply(pod(f"plain{i}"))
    until("pod Running", lambda: pod_phase(f"plain{i}") == "Running")
    plain.append(time.monotonic() - t)
    delete("pod", f"plain{i}")
    # re-mount: the old pod goes (the volume is unmounted, its loop device detached)
    delete("pod", f"user{i}")
    t = time.monotonic()
    apply(pod(f"again{i}", f"big{i}"))
    until("pod Running", lambda: pod_phase(f"again{i}") == "Running")
    remount.append(time.monotonic() - t)
    delete("pod", f"again{i}")
    delete("pvc", f"big{i}")

    # peer: the same by hand
    img, mnt = f"{T}/peer{i}.img", f"{T}/peer{i}"
    os.makedirs(mnt)
    t = time.monotonic()
    sh("truncate", "-s", "1G", img)
    dev = sh("losetup", "--find", "--show", img)
    sh("mkfs.ext4", "-F", "-q", dev)
    sh("mount", dev, mnt)
    peer_make.append(time.monotonic() - t)
    sh("umount", mnt)
    sh("losetup", "-d", dev)
    t = time.monotonic()
    dev = sh("losetup", "--find", "--show", img)
    sh("mount", dev, mnt)
    peer_remount.append(time.monotonic() - t)
    sh("umount", mnt)
    sh("losetup", "-d", dev)
    os.unlink(img)

print(f"1 GiB loop ext4 volume, median of {rounds}:")
print(f"  berth: claim applied to Bound (sparse image, attach, mkfs.ext4): {ms(provision)}")
print(f"  berth: pod using it applied to Running: {ms(mount)}   same pod without the claim: {ms(plain)}")
print(f"  peer:  truncate + losetup + mkfs.ext4 + mount by hand: {ms(peer_make)}")
print(f"  ratio: (provision + mount share of the start) / peer = "
      f"{(statistics.median(provision) + statistics.median(mount) - statistics.median(plain)) / statistics.median(peer_make):.2f}")
print(f"re-mount of the existing volume, median of {rounds}:")
print(f"  berth: new pod applied to Running (attach + mount + bind): {ms(remount)}"
      f"   its share over a plain start: {(statistics.median(remount) - statistics.median(plain)) * 1000:.1f} ms")
print(f"  peer:  losetup + mount by hand: {ms(peer_remount)}")

# many pods, each with an emptyDir and a claim of its own
def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1])

rss0 = rss_kb(agent)
apply("---\n".join(claim(f"c{i}", "16Mi") for i in range(n)))
until(f"{n} claims Bound", lambda: all(claim_phase(f"c{i}") == "Bound" for i in range(n)), 600)
apply("---\n".join(pod(f"p{i}", f"c{i}", True) for i in range(n)))
until(f"{n} pods Running", lambda: all(pod_phase(f"p{i}") == "Running" for i in range(n)), 600)
time.sleep(2)
with open("/proc/self/mountinfo") as f:
    mounts = [l for l in f if f" {T}/" in l]
state = [l for l in mounts if f" {T}/state/" in l]
loops = sh("losetup", "-l", "-n", "-O", "BACK-FILE").split("\n")
print(f"{n} pods, each with an emptyDir and a 16Mi loop ext4 claim:")
print(f"  mounts held on the host: {len(state)} ({len(state) / n:.1f} per pod: the volume's mount and the pod's bind)")
print(f"  loop devices: {sum(1 for l in loops if l.startswith(T + '/'))}")
print(f"  agent RSS: {rss_kb(agent) / 1024:.1f} MiB (idle before: {rss0 / 1024:.1f} MiB)")
PY
