#!/bin/bash
# The cri runtime against a real containerd started here (tests/integration/lib-containerd.sh,
# images built locally), with peers measured in the same run:
#  1. apply-to-running latency of a one-container pod through berth (the request to the API
#     until the pod's status says Running), median of ROUNDS (20); peer: the bare CRI calls of a
#     minimal client (build/bench/cri-bare: RunPodSandbox, ImageStatus, CreateContainer,
#     StartContainer), and `ctr run -d` (no sandbox, no CRI: the floor)
#  2. agent RSS idle and with N (100) running CRI pods
# Needs root. Prints figures; asserts nothing about time.
# Usage: bench/cri.sh [BERTH] [CRI_BARE]
set -u
BERTH=$(readlink -f "${1:-build/agent/berth}")
CRI_BARE=$(readlink -f "${2:-$(dirname "$BERTH")/../bench/cri-bare}")
ROUNDS=${ROUNDS:-20}
N=${N:-100}
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
[ -x "$CRI_BARE" ] || { echo "bench: $CRI_BARE is not built" >&2; exit 1; }
T=$(mktemp -d /tmp/berth-cri-bench.XXXXXX)
chmod 755 "$T"
export BERTH_SOCKET=$T/berth.sock
AGENT=
CLEANUP_HOOKS=()
fail() { echo "bench: $*" >&2; exit 1; }
skip() { fail "$@"; }
. "$(dirname "$0")/../tests/integration/lib-containerd.sh"
cleanup() {
        if [ -n "$AGENT" ]; then
                "$BERTH" delete pods --all --grace-period=1 --timeout=300s >/dev/null 2>&1
                # the agent removes sandboxes in the background after their pods
                for _ in $(seq 1200); do [ -z "$(CTR containers ls -q 2>/dev/null)" ] && break; sleep 0.1; done
                kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null
        fi
        for h in "${CLEANUP_HOOKS[@]}"; do "$h"; done
        rm -rf "$T"
}
trap cleanup EXIT

start_containerd
mkdir -p "$T/state" "$T/manifests" "$T/logs" "$T/bare-logs"
cat >"$T/config.yaml" <<YAML
cgroupRoot: berth-cribench
logLevel: warning
runtime: {type: cri, endpoint: unix://$CTD_SOCK}
YAML
"$BERTH" agent --config "$T/config.yaml" --state-dir "$T/state" --socket "$BERTH_SOCKET" \
        --manifests-dir "$T/manifests" --log-dir "$T/logs" --node-name bench >"$T/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 200); do "$BERTH" version >/dev/null 2>&1 && break; sleep 0.1; done
"$BERTH" version >/dev/null 2>&1 || { cat "$T/agent.log"; fail "the agent did not start"; }

python3 - "$BERTH_SOCKET" "$T" "$ROUNDS" "$N" "$AGENT" "$CRI_BARE" "$CTD_SOCK" <<'PY'
import http.client, json, os, socket, statistics, subprocess, sys, time

sock, T, rounds, n, agent, bare, ctd = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]

class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sock)

def req(method, path, body=None):
    c = Conn("localhost")
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)

def until(what, check, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.002)
    sys.exit(f"bench: timed out waiting for {what}")

def phase(name):
    s, o = req("GET", f"/api/v1/namespaces/default/pods/{name}")
    return o.get("status", {}).get("phase") if s == 200 else None

def gone(name):
    return req("GET", f"/api/v1/namespaces/default/pods/{name}")[0] == 404

def pod(name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "main", "image": "busybox", "imagePullPolicy": "IfNotPresent",
                                     "command": ["/bin/sleep", "600"]}]}}

def run_one(name):
    t0 = time.monotonic()
    s, o = req("POST", "/api/v1/namespaces/default/pods", pod(name))
    if s not in (200, 201):
        sys.exit(f"bench: apply {name}: {s} {o}")
    until(f"{name} Running", lambda: phase(name) == "Running")
    return (time.monotonic() - t0) * 1000

def delete(name):
    req("DELETE", f"/api/v1/namespaces/default/pods/{name}")
    until(f"{name} gone", lambda: gone(name))

def ctr(*args):
    subprocess.run(["ctr", "-a", ctd, "-n", "k8s.io", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def wait_empty():
    end = time.monotonic() + 60
    while time.monotonic() < end:
        out = subprocess.run(["ctr", "-a", ctd, "-n", "k8s.io", "containers", "ls", "-q"],
                             capture_output=True, text=True).stdout.split()
        if not out:
            return
        time.sleep(0.05)

# warm-up: the snapshot of the image is unpacked once
run_one("warm"); delete("warm"); wait_empty()

berth = []
for i in range(rounds):
    berth.append(run_one(f"lat-{i}"))
    delete(f"lat-{i}")
    wait_empty()

out = subprocess.run([bare, f"unix://{ctd}", f"{T}/bare-logs", str(rounds)], capture_output=True, text=True)
if out.returncode != 0:
    sys.exit(f"bench: cri-bare: {out.stderr}")
bare_ms = [float(x) for x in out.stdout.split()]
wait_empty()

floor = []
for i in range(rounds):
    cid = f"ctr-run-{i}"
    t0 = time.monotonic()
    ctr("run", "-d", "docker.io/library/busybox:latest", cid, "/bin/sleep", "600")
    floor.append((time.monotonic() - t0) * 1000)
    ctr("tasks", "kill", "-s", "KILL", cid)
    time.sleep(0.05)
    subprocess.run(["ctr", "-a", ctd, "-n", "k8s.io", "tasks", "delete", "-f", cid],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctr("containers", "delete", cid)

mb, mr, mf = statistics.median(berth), statistics.median(bare_ms), statistics.median(floor)
print(f"apply-to-running, one-container pod, median of {rounds}:")
print(f"  berth (API request to status Running): {mb:.1f} ms")
print(f"  bare CRI calls (cri-bare):             {mr:.1f} ms")
print(f"  ctr run -d (no sandbox):               {mf:.1f} ms")
print(f"  berth / bare CRI: {mb / mr:.3f}  (overhead {100 * (mb - mr) / mr:+.1f}%)")

idle = rss_kb(agent)
for i in range(n):
    s, o = req("POST", "/api/v1/namespaces/default/pods", pod(f"many-{i}"))
until(f"{n} pods Running", lambda: sum(1 for i in range(n) if phase(f"many-{i}") == "Running") == n,
      timeout=900)
time.sleep(3)
busy = rss_kb(agent)
print(f"agent RSS: idle {idle / 1024:.1f} MiB, with {n} running CRI pods {busy / 1024:.1f} MiB")

def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

# what the relist costs with n idle pods: CPU of the agent over 20 s of nothing happening
c0, t0 = cpu_s(agent), time.monotonic()
time.sleep(20)
c1, t1 = cpu_s(agent), time.monotonic()
print(f"agent CPU with {n} idle CRI pods (relist every 1 s): {100 * (c1 - c0) / (t1 - t0):.2f}% of one core")
PY
