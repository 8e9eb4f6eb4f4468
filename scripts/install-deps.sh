#!/bin/sh
# Installs the Debian packages berth needs to build, test and run (Debian 12).
# Does nothing when everything is already there; needs root otherwise.
set -eu

# e2fsprogs and xfsprogs are run by the agent: mkfs and grow of local persistent volumes
BUILD="make meson ninja-build pkg-config gcc libc6-dev tzdata libsystemd-dev libyaml-dev libcjson-dev
libmicrohttpd-dev libsqlite3-dev libcurl4-openssl-dev libmount-dev libblkid-dev libseccomp-dev
protobuf-c-compiler libprotobuf-c-dev e2fsprogs xfsprogs"
# debhelper to systemd: the .deb and .rpm builds of tests/integration/test-packages.sh
# containerd to busybox-static: a real containerd and locally built images for the CRI tests
# (tests/integration/lib-containerd.sh, scripts/build-test-images.sh)
# zsh: test-cli-completion sources the zsh completion script in it
# man-db: man --warnings and lexgrog check the generated man pages
# iproute2: lib-containerd.sh removes the network namespaces and the bridge CNI made, and
# test-cluster-sts.sh partitions an agent in a network namespace of its own (entered with
# util-linux's nsenter, which Debian always has)
# etcd-server, etcd-client: the cluster-mode tests start their own etcd on loopback ports
TEST="libcriterion-dev clang-format procps curl python3 git libnghttp2-dev zsh
debhelper dpkg-dev lintian rpm fakeroot systemd
containerd runc umoci containernetworking-plugins busybox-static man-db iproute2
etcd-server etcd-client"

want="$BUILD"
[ "${1:-}" = "--test" ] && want="$BUILD $TEST"

missing=""
for p in $want; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages:$missing" >&2
        echo "install-deps: run as root: apt-get update && apt-get install -y$missing" >&2
        exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
