#!/bin/bash
# The packages: scripts/build-deb.sh and scripts/build-rpm.sh build the .deb and the .rpm
# from the working tree, lintian finds no error in the .deb, and the .deb installs into a
# throwaway root with its maintainer scripts (dpkg --root, the scripts run chrootless with
# DPKG_ROOT): files, units, group, directories, nothing enabled, the agent accepts the
# shipped config. Removal keeps the state; purge leaves nothing behind, and keeps a state
# directory with mounts below it. The .rpm carries the same files. Prints the sizes.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (dpkg --root runs the maintainer scripts as root)"
for tool in dpkg-buildpackage dh lintian rpmbuild rpm2archive systemd-sysusers systemd-tmpfiles \
        systemd-socket-activate groupdel; do
        command -v "$tool" >/dev/null || skip "$tool is missing: scripts/install-deps.sh --test installs it"
done

SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$T/out
R=$T/root
VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -n 1)
RPM_PID=

step() { echo "--- $*"; }

# the .rpm builds in the background, overlapping the .deb's build and checks
step "building the .deb and the .rpm"
start=$(date +%s)
# its own process group, so that a failure here stops rpmbuild as well
setsid "$SRC/scripts/build-rpm.sh" "$OUT" --nocheck >"$T/rpm.list" 2>"$T/rpm.log" &
RPM_PID=$!
trap 'st=$?; [ -z "$RPM_PID" ] || kill -- -"$RPM_PID" 2>/dev/null; (exit $st); cleanup' EXIT
if ! DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" "$SRC/scripts/build-deb.sh" "$OUT" \
        >"$T/deb.list" 2>"$T/deb.log"; then
        tail -n 40 "$T/deb.log" >&2
        fail "scripts/build-deb.sh failed"
fi
DEB=$(grep "/berth_${VERSION}_[a-z0-9]*\.deb$" "$T/deb.list" | head -n 1)
[ -f "$DEB" ] || fail "no berth .deb among: $(cat "$T/deb.list")"
echo "deb built in $(($(date +%s) - start)) s: $(basename "$DEB")"

step "lintian"
lintian "$DEB" >"$T/lintian.txt" 2>"$T/lintian.err"
lintian_rc=$?
cat "$T/lintian.txt"
errors=$(grep -c '^E: ' "$T/lintian.txt")
warnings=$(grep -c '^W: ' "$T/lintian.txt")
echo "lintian: $errors errors, $warnings warnings"
[ "$lintian_rc" = 0 ] && [ "$errors" = 0 ] || fail "lintian reports errors (exit $lintian_rc): $(cat "$T/lintian.err")"

# --- the .deb in a throwaway root -------------------------------------------------------

dpkg_root() {
        dpkg --root="$R" --force-script-chrootless --force-depends --force-confold "$@" >>"$T/dpkg.log" 2>&1 ||
                fail "dpkg $*: $(tail -n 20 "$T/dpkg.log")"
}
status_of() { dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status}' berth 2>/dev/null; }
host_units() { find /etc/systemd/system -name 'berth*' 2>/dev/null | sort; }
mode_of() { stat -c %a "$1"; }

mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers" "$R/etc"
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"
host_before=$(host_units)

step "installing into $R"
dpkg_root -i "$DEB"
[ "$(status_of)" = "install ok installed" ] || fail "status after install: $(status_of)"
# the maintainer scripts acted on the root, not on this machine: purge below is safe
grep -q '^berth:x:[0-9]*:$' "$R/etc/group" || fail "postinst did not create the group berth in the root"
gid=$(grep '^berth:' "$R/etc/group" | cut -d: -f3)
[ "$gid" -lt 1000 ] || fail "the group berth is not a system group (gid $gid)"

for f in usr/bin/berth usr/libexec/berth/berth-shim lib/systemd/system/berth.service \
        lib/systemd/system/berth.socket usr/lib/tmpfiles.d/berth.conf usr/lib/sysusers.d/berth.conf \
        etc/berth/config.yaml usr/share/doc/berth/copyright; do
        [ -f "$R/$f" ] || fail "/$f is not installed"
done
[ -x "$R/usr/bin/berth" ] && [ -x "$R/usr/libexec/berth/berth-shim" ] || fail "binaries not executable"
cmp -s "$R/etc/berth/config.yaml" "$SRC/packaging/config.yaml" || fail "/etc/berth/config.yaml is not packaging/config.yaml"
dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Conffiles}' berth | grep -q '^ /etc/berth/config.yaml ' ||
        fail "/etc/berth/config.yaml is not a conffile"
[ -d "$R/etc/berth/manifests.d" ] && [ -z "$(ls -A "$R/etc/berth/manifests.d")" ] ||
        fail "/etc/berth/manifests.d is not an empty directory"
# tmpfiles.d, run by the postinst
[ -d "$R/run/berth" ] && [ "$(mode_of "$R/run/berth")" = 755 ] || fail "/run/berth missing or not 0755"
[ -d "$R/var/lib/berth" ] && [ "$(mode_of "$R/var/lib/berth")" = 700 ] || fail "/var/lib/berth missing or not 0700"

# the man pages are whatever meson installs: the same names, compressed
if [ -n "${BUILD_ROOT:-}" ]; then
        meson introspect "$BUILD_ROOT" --installed |
                python3 -c 'import json,sys; [print(v.split("/share/man/", 1)[1]) for v in json.load(sys.stdin).values() if "/share/man/" in v]' |
                sort >"$T/man.want" || fail "meson introspect $BUILD_ROOT"
        (cd "$R/usr/share/man" 2>/dev/null && find . -type f | sed 's|^\./||; s|\.gz$||' | sort) >"$T/man.have"
        diff "$T/man.want" "$T/man.have" >&2 || fail "the man pages differ from what meson installs (< meson, > .deb)"
        echo "man pages: $(tr '\n' ' ' <"$T/man.have")"
fi

step "the installed binaries"
"$R/usr/bin/berth" version >"$T/version.txt" 2>&1
grep -q "^Client Version: v$VERSION$" "$T/version.txt" || fail "berth version: $(cat "$T/version.txt")"
grep -qa "/usr/libexec/berth" "$R/usr/bin/berth" || fail "berth does not look for its shim in /usr/libexec/berth"
"$R/usr/libexec/berth/berth-shim" >"$T/shim.txt" 2>&1
[ $? = 2 ] && grep -q "usage: berth-shim" "$T/shim.txt" || fail "berth-shim: $(cat "$T/shim.txt")"

step "the units"
sock=$R/lib/systemd/system/berth.socket
for line in ListenStream=/run/berth/berth.sock SocketGroup=berth SocketMode=0660 WantedBy=sockets.target; do
        grep -qx "$line" "$sock" || fail "berth.socket has no $line"
done
grep -qx "ExecStart=/usr/bin/berth agent" "$R/lib/systemd/system/berth.service" || fail "berth.service ExecStart"
# systemd-analyze verify from a copy that runs the binary of the root
mkdir "$T/units"
cp "$sock" "$T/units/"
sed "s|^ExecStart=/usr/bin/berth|ExecStart=$R/usr/bin/berth|" "$R/lib/systemd/system/berth.service" >"$T/units/berth.service"
SYSTEMD_UNIT_PATH=$T/units: systemd-analyze verify --man=no berth.socket berth.service >"$T/verify.txt" 2>&1 ||
        fail "systemd-analyze verify: $(cat "$T/verify.txt")"
[ ! -s "$T/verify.txt" ] || fail "systemd-analyze verify: $(cat "$T/verify.txt")"

step "nothing enabled, nothing started"
[ -z "$(find "$R/etc/systemd" \( -type l -o -type f \) 2>/dev/null)" ] ||
        fail "units enabled in the root: $(find "$R/etc/systemd" 2>/dev/null)"
[ "$(host_units)" = "$host_before" ] || fail "this machine's /etc/systemd/system changed"

step "the agent accepts the shipped config"
# run_agent CONFIG [FLAGS]: the installed agent on a private state dir and socket
run_agent() {
        local cfg=$1
        shift
        rm -rf "$T/agent"
        mkdir -p "$T/agent"
        "$R/usr/bin/berth" agent --config "$cfg" --state-dir "$T/agent/state" --socket "$SOCK" \
                --manifests-dir "$R/etc/berth/manifests.d" --log-dir "$T/agent/logs" "$@" >"$T/agent.log" 2>&1 &
        AGENT_PID=$!
        for _ in $(seq 1 100); do
                "$R/usr/bin/berth" version >"$T/version.txt" 2>&1 && break
                kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent exited with $cfg"
                sleep 0.1
        done
        grep -q "Server Version: v$VERSION" "$T/version.txt" || fail "the agent does not answer: $(cat "$T/version.txt")"
        stop_agent TERM
        rm -rf "$T/agent" "$T/agent.log"
}
run_agent "$R/etc/berth/config.yaml" --node-name pkg-test
# and with every setting it documents uncommented: the comments are valid settings too
sed 's/^#\([a-zA-Z]\|  [a-z]\)/\1/' "$R/etc/berth/config.yaml" >"$T/config-all.yaml"
[ "$(grep -c '^[a-zA-Z]' "$T/config-all.yaml")" -ge 15 ] || fail "fewer settings than expected in the config"
run_agent "$T/config-all.yaml"

step "socket activation, as berth.socket does it"
mkdir -p "$T/agent"
systemd-socket-activate -l "$SOCK" "$R/usr/bin/berth" agent --config "$R/etc/berth/config.yaml" \
        --state-dir "$T/agent/state" --socket "$T/agent/own.sock" --manifests-dir "$R/etc/berth/manifests.d" \
        --log-dir "$T/agent/logs" --node-name pkg-test >"$T/agent.log" 2>&1 &
AGENT_PID=$!
wait_for 5 "the activation socket" test -S "$SOCK"
# the first client starts the agent, which answers on the socket it was handed
"$R/usr/bin/berth" version >"$T/version.txt" 2>&1
grep -q "Server Version: v$VERSION" "$T/version.txt" || fail "socket activation: $(cat "$T/version.txt")"
[ ! -e "$T/agent/own.sock" ] || fail "the activated agent made its own socket"
stop_agent TERM
rm -rf "$T/agent" "$T/agent.log" "$SOCK"

step "reinstalling keeps a changed config"
echo "# changed by the admin" >>"$R/etc/berth/config.yaml"
dpkg_root -i "$DEB"
grep -q "changed by the admin" "$R/etc/berth/config.yaml" || fail "reinstalling replaced the changed config"
[ "$(grep -c '^berth:' "$R/etc/group")" = 1 ] || fail "the group berth is not there once after reinstalling"

# --- remove and purge -----------------------------------------------------------------

step "remove keeps the state and the config"
echo state >"$R/var/lib/berth/berth.db"
printf 'apiVersion: v1\nkind: List\nitems: []\n' >"$R/etc/berth/manifests.d/mine.yaml"
dpkg_root -r berth
[ "$(status_of)" = "deinstall ok config-files" ] || fail "status after remove: $(status_of)"
for f in usr/bin/berth usr/libexec/berth lib/systemd/system/berth.service lib/systemd/system/berth.socket \
        usr/lib/tmpfiles.d/berth.conf usr/lib/sysusers.d/berth.conf; do
        [ ! -e "$R/$f" ] || fail "/$f is left after remove"
done
[ -f "$R/var/lib/berth/berth.db" ] || fail "remove deleted the state"
[ -f "$R/etc/berth/config.yaml" ] && [ -f "$R/etc/berth/manifests.d/mine.yaml" ] || fail "remove deleted the config"

step "purge leaves nothing behind"
dpkg_root -P berth
[ -z "$(status_of)" ] || [ "$(status_of)" = "unknown ok not-installed" ] || fail "status after purge: $(status_of)"
# what may stay: the root's dpkg database and the system files the scripts wrote to
left=$(cd "$R" && find . -mindepth 1 | sed 's|^\./||' | grep -v -x -E \
        'etc|etc/\.pwd\.lock|etc/(group|gshadow)-?|run|var|var/lib|var/lib/systemd|var/lib/dpkg(/.*)?')
[ -z "$left" ] || fail "left after purge: $left"
! grep -q '^berth:' "$R/etc/group" "$R/etc/gshadow" || fail "the group berth is left after purge"
[ -z "$(ls -A "$R/var/lib/systemd")" ] || fail "deb-systemd-helper state left: $(ls -A "$R/var/lib/systemd")"

step "purge keeps a state directory with mounts below it, and a group with members"
dpkg_root -i "$DEB"
sed -i 's/^berth:x:\([0-9]*\):$/berth:x:\1:alice/' "$R/etc/group"
mkdir -p "$R/var/lib/berth/volumes/pvc-1"
mount -t tmpfs -o size=1m berth-pkg-test "$R/var/lib/berth/volumes/pvc-1" || fail "mount tmpfs"
echo data >"$R/var/lib/berth/volumes/pvc-1/file"
dpkg_root -P berth
kept=no
[ -f "$R/var/lib/berth/volumes/pvc-1/file" ] && kept=yes
umount "$R/var/lib/berth/volumes/pvc-1"
[ "$kept" = yes ] || fail "purge deleted a mounted volume's data"
grep -q "keeping $R/var/lib/berth" "$T/dpkg.log" || fail "purge did not say why it kept the state"
[ ! -e "$R/etc/berth" ] && [ ! -e "$R/usr/bin/berth" ] || fail "purge with mounts left more than the state"
grep -q '^berth:x:[0-9]*:alice$' "$R/etc/group" || fail "purge deleted a group with members"
rm -rf "$R/var/lib/berth"

# --- the .rpm -------------------------------------------------------------------------

step "the .rpm"
wait "$RPM_PID"
rpm_rc=$?
RPM_PID=
if [ "$rpm_rc" != 0 ]; then
        tail -n 40 "$T/rpm.log" >&2
        fail "scripts/build-rpm.sh failed"
fi
RPM=$(grep "/berth-$VERSION-[^/]*\.rpm$" "$T/rpm.list" | grep -v -e debuginfo -e debugsource | head -n 1)
[ -f "$RPM" ] || fail "no berth .rpm among: $(cat "$T/rpm.list")"
echo "rpm built: $(basename "$RPM")"
rpm -qlp "$RPM" >"$T/rpm.files" || fail "rpm -qlp"
# the same files as the .deb, but for the documentation and the man pages' compression
dpkg-deb -x "$DEB" "$T/debx"
(cd "$T/debx" && find . -type f | sed 's|^\.||; s|\.gz$||' | grep -v '^/usr/share/doc/' | sort) >"$T/deb.files"
rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms}\n]' "$RPM" | grep ' -' | cut -d' ' -f1 |
        sed 's|\.gz$||' | grep -v -e '^/usr/share/doc/' -e '^/usr/lib/\.build-id/' | sort >"$T/rpm.regular"
diff "$T/deb.files" "$T/rpm.regular" >&2 || fail "the .rpm's files differ from the .deb's (< deb, > rpm)"
for d in /etc/berth/manifests.d /var/lib/berth /run/berth; do
        grep -qx "$d" "$T/rpm.files" || fail "the .rpm does not own $d"
done
rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$RPM" | grep -qx '/etc/berth/config.yaml cn' ||
        fail "the .rpm's config is not %config(noreplace)"
rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms}\n]' "$RPM" | grep -qx '/var/lib/berth drwx------' ||
        fail "the .rpm's /var/lib/berth is not 0700"
rpm -qp --scripts "$RPM" >"$T/rpm.scripts"
grep -q "groupadd -r berth" "$T/rpm.scripts" || fail "the .rpm does not create the group"
! grep -q "systemctl.* enable" "$T/rpm.scripts" || fail "the .rpm enables units"
mkdir "$T/rpmx"
rpm2archive - <"$RPM" | tar -x -z -C "$T/rpmx" || fail "rpm2archive"
"$T/rpmx/usr/bin/berth" version 2>/dev/null | grep -q "^Client Version: v$VERSION$" || fail "the .rpm's berth version"
echo "rpm files: $(wc -l <"$T/rpm.files")"

step "figures"
deb_size=$(stat -c %s "$DEB")
rpm_size=$(stat -c %s "$RPM")
echo "deb: $(basename "$DEB") $deb_size bytes ($((deb_size / 1024)) KiB)," \
        "Installed-Size $(dpkg-deb -f "$DEB" Installed-Size) KiB, unpacked tree $(du -sk "$T/debx" | cut -f1) KiB" \
        "(du), $(du -sk --apparent-size "$T/debx" | cut -f1) KiB (apparent)"
echo "rpm: $(basename "$RPM") $rpm_size bytes ($((rpm_size / 1024)) KiB)," \
        "installed size $(($(rpm -qp --qf '%{SIZE}' "$RPM") / 1024)) KiB"
echo "ok"
