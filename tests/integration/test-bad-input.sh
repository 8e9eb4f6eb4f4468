#!/bin/bash
# Bad input gets a clear error that names what was wrong, and changes nothing.
. "$(dirname "$0")/lib.sh"
require_root
start_agent

expect_error() { # description, expected text, command...
        local what=$1 want=$2 out
        shift 2
        if out=$("$@" 2>&1); then
                fail "$what: succeeded but should fail: $out"
        fi
        printf '%s' "$out" | grep -qF -- "$want" || fail "$what: expected '$want' in: $out"
}

printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [\n' >"$T/broken.yaml"
expect_error "malformed YAML" "broken.yaml:" b apply -f "$T/broken.yaml"

printf 'apiVersion: v1\nkind: Frobnicator\nmetadata:\n  name: x\n' >"$T/unknown.yaml"
expect_error "unknown kind" "Frobnicator" b apply -f "$T/unknown.yaml"

pod_manifest Web_1 'true' >"$T/badname.yaml"
expect_error "invalid name" "metadata.name: Invalid value: \"Web_1\"" b apply -f "$T/badname.yaml"

cat >"$T/noimage.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: noimage
spec:
  containers:
  - name: main
    command: ["true"]
YAML
expect_error "missing image" "noimage.yaml:7: spec.containers[0].image: Required value" b apply -f "$T/noimage.yaml"

cat >"$T/nocommand.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: nocommand
spec:
  containers:
  - name: main
    image: busybox
YAML
expect_error "missing command" \
        "nocommand.yaml:7: spec.containers[0].command: Required value: the host runtime runs no image entrypoint" \
        b apply -f "$T/nocommand.yaml"
cp "$T/nocommand.yaml" "$T/manifests/nocommand.yaml"
wait_for 5 "the manifests dir refusing it" grep -q "nocommand.yaml:7: spec.containers\[0\].command" "$T/agent.log"

cat >"$T/job.yaml" <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: j
spec:
  template:
    spec:
      restartPolicy: Always
      containers:
      - name: main
        image: busybox
        command: ["true"]
YAML
expect_error "job restartPolicy" 'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"' \
        b apply -f "$T/job.yaml"

# all-or-nothing: a good document followed by a bad one applies neither
{ pod_manifest good 'sleep 100'; echo '---'; cat "$T/noimage.yaml"; } >"$T/multi.yaml"
expect_error "multi-document" "Required value" b apply -f "$T/multi.yaml"
b get pod good >/dev/null 2>&1 && fail "the good half of a bad multi-document apply was applied"

# duplicate names in one apply
{ pod_manifest dup 'true'; echo '---'; pod_manifest dup 'true'; } >"$T/dup.yaml"
expect_error "duplicate" "dup" b apply -f "$T/dup.yaml"
b get pod dup >/dev/null 2>&1 && fail "a duplicate apply left an object"

# oversized document (4 MiB)
python3 -c "print('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  k: ' + 'x' * (4 << 20))" >"$T/big.yaml"
expect_error "oversized" "larger than 3145728 bytes" b apply -f "$T/big.yaml"

# oversized request body straight to the API
python3 -c "print('{\"kind\":\"List\",\"items\":[\"' + 'x' * (4 << 20) + '\"]}')" >"$T/big.json"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
        --data-binary @"$T/big.json" http://localhost/apis/berth.dev/v1/apply)
[ "$code" = 413 ] || fail "oversized request body answered $code"

expect_error "unknown verb" 'unknown command "frob"' b frob
expect_error "unknown flag" "unknown flag: --frob" b get pods --frob
expect_error "not found" 'pods "nope" not found' b get pod nope

[ "$(b get pods -o name | wc -l)" = 0 ] || fail "bad input created objects: $(b get pods -o name)"

# a config the agent cannot honour stops it with the key and what was wrong
mkdir -p "$T/bad"
printf 'runtime: {type: docker}\n' >"$T/bad/runtime.yaml"
printf 'storageClasses: {fast: {type: loop, path: relative}}\n' >"$T/bad/sc.yaml"
printf 'coordinator: {type: etcd}\n' >"$T/bad/etcd.yaml"
printf 'coordinator: {type: etcd, endpoints: ["http://127.0.0.1:1"], leaseTTLSeconds: 1}\n' >"$T/bad/ttl.yaml"
printf 'bogus: 1\n' >"$T/bad/unknown.yaml"
for c in runtime:'runtime.type: Unsupported value: "docker"' \
        sc:'storageClasses.fast.path: Invalid value: "relative": must be an absolute path' \
        etcd:'coordinator: etcd needs at least one endpoint' ttl:'coordinator.leaseTTLSeconds: Invalid value: 1: must be at least 3' \
        unknown:'bogus: Unknown field'; do
        expect_error "config ${c%%:*}" "${c#*:}" "$BERTH" agent --config "$T/bad/${c%%:*}.yaml" --state-dir "$T/bad/s" \
                --socket "$T/bad/s.sock" --manifests-dir "$T/bad/m" --log-dir "$T/bad/l" --node-name bad
done
echo "ok"
