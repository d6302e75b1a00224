#!/usr/bin/env bash
# make test-vm: boots Debian 12's arm64 kernel under qemu-system-aarch64
# (-M virt, Cortex-A72, TCG) with an initramfs holding a static arm64
# edgeinfer, the vivid camera driver and test/vm/init.sh, which runs
# edgeinfer against the kernel's V4L2 camera and the virt machine's PL061
# GPIO controller and powers off. This script parses the console log,
# prints the summary and fails on any failed check, a kernel BUG, WARNING
# or Oops, a missing end marker or a timeout.
#
# Needs root for apt (it installs qemu-system-arm, kmod, cpio when they
# are missing, adds the arm64 architecture and downloads the arm64
# packages by name). Downloads and the initramfs go to VM_CACHE.
#
# Settings (environment): VM_CACHE (.cache/vm), VM_TIMEOUT (600 s for
# the whole boot), VM_SMP (4), VM_MEM (1024), VM_FRAMES (8 per format),
# VM_MODEL (zoo:lenet5), VM_KERNEL_PKG (linux-image-arm64's dependency).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export PATH=/usr/local/go/bin:$PATH

CACHE=${VM_CACHE:-.cache/vm}
TIMEOUT=${VM_TIMEOUT:-600}
SMP=${VM_SMP:-4}
MEM=${VM_MEM:-1024}
FRAMES=${VM_FRAMES:-8}
MODEL=${VM_MODEL:-zoo:lenet5}
start=$(date +%s)
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

say() { echo "test-vm: $*"; }
die() {
	echo "test-vm: FAIL: $*" >&2
	exit 1
}

# ---- host tools
need=""
for p in qemu-system-aarch64:qemu-system-arm depmod:kmod cpio:cpio dpkg-deb:dpkg; do
	command -v "${p%%:*}" >/dev/null || need="$need ${p#*:}"
done
[ -x /sbin/depmod ] || [ -x /usr/sbin/depmod ] || command -v depmod >/dev/null || need="$need kmod"
updated=0
apt_update() {
	[ "$updated" = 1 ] && return
	say "apt-get update" >&2
	apt-get update -qq >&2
	updated=1
}
if [ -n "$need" ]; then
	[ "$(id -u)" = 0 ] || die "missing$need; run as root (apt-get install) or install them"
	apt_update
	say "installing$need"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
DEPMOD=$(command -v depmod || echo /sbin/depmod)

# ---- arm64 packages, by name through apt
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	[ "$(id -u)" = 0 ] || die "the arm64 architecture is not enabled; run as root"
	say "dpkg --add-architecture arm64"
	dpkg --add-architecture arm64
	updated=0
	apt_update
fi
kpkg=${VM_KERNEL_PKG:-}
if [ -z "$kpkg" ]; then
	kpkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -1)
	if [ -z "$kpkg" ]; then
		apt_update
		kpkg=$(apt-cache depends linux-image-arm64:arm64 | sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -1)
	fi
fi
[ -n "$kpkg" ] || die "cannot resolve linux-image-arm64:arm64 to a kernel package"
kver=${kpkg#linux-image-}
debs=$CACHE/debs
mkdir -p "$debs"
fetch() { # fetch PKG: the .deb of PKG:arm64 in $debs (downloaded once per version)
	local v f
	v=$(apt-cache policy "$1:arm64" | sed -n 's/^ *Candidate: //p')
	[ -n "$v" ] && [ "$v" != "(none)" ] || { apt_update; v=$(apt-cache policy "$1:arm64" | sed -n 's/^ *Candidate: //p'); }
	[ -n "$v" ] && [ "$v" != "(none)" ] || die "no arm64 package $1"
	f=$(ls "$debs/$1_"*"_arm64.deb" 2>/dev/null | while read -r x; do
		[ "$(dpkg-deb -f "$x" Version)" = "$v" ] && echo "$x"
	done | head -1)
	if [ -z "$f" ]; then
		say "apt-get download $1:arm64 ($v)" >&2
		(cd "$debs" && apt-get download -q "$1:arm64=$v" >/dev/null 2>&1) ||
			{ apt_update; (cd "$debs" && apt-get download -q "$1:arm64" >/dev/null); }
		f=$(ls -t "$debs/$1_"*"_arm64.deb" | head -1)
	fi
	[ -f "$f" ] || die "apt-get download $1:arm64 left no .deb in $debs"
	echo "$f"
}
kdeb=$(fetch "$kpkg") || exit 1
bdeb=$(fetch busybox-static) || exit 1
say "kernel $kpkg $(dpkg-deb -f "$kdeb" Version), busybox-static $(dpkg-deb -f "$bdeb" Version)"

kroot=$CACHE/kernel-$kver
if [ ! -f "$kroot/.done" ] || [ "$(cat "$kroot/.done")" != "$(basename "$kdeb")" ]; then
	rm -rf "$kroot"
	mkdir -p "$kroot"
	dpkg-deb -x "$kdeb" "$kroot"
	"$DEPMOD" -b "$kroot" "$kver"
	basename "$kdeb" >"$kroot/.done"
fi
vmlinuz=$kroot/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "no $vmlinuz in $kdeb"
moddir=$kroot/lib/modules/$kver

# ---- initramfs
ird=$CACHE/initrd
rm -rf "$ird"
mkdir -p "$ird"/{bin,dev,proc,sys,tmp,etc/edgeinfer,lib/modules/"$kver"}
bbx=$CACHE/busybox
rm -rf "$bbx"
dpkg-deb -x "$bdeb" "$bbx"
cp "$bbx/bin/busybox" "$ird/bin/busybox"
say "building edgeinfer and vmcheck for linux/arm64"
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -o "$ird/bin/edgeinfer" ./cmd/edgeinfer
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -o "$ird/bin/vmcheck" ./test/vm/vmcheck
install -m 0755 test/vm/init.sh "$ird/init"
printf '%s\n' zero one two three four five six seven eight nine >"$ird/etc/edgeinfer/labels.txt"

# vivid and what modules.dep says it needs; depmod again over that subset
# so that busybox's modprobe inside finds them.
mods=$(awk -v m="vivid" '{ k = $1; sub(/:$/, "", k); n = k; sub(/.*\//, "", n); sub(/\.ko(\..*)?$/, "", n) }
	n == m { print k; for (i = 2; i <= NF; i++) print $i }' "$moddir/modules.dep")
[ -n "$mods" ] || die "vivid is not in $moddir/modules.dep"
for m in $mods; do
	mkdir -p "$ird/lib/modules/$kver/$(dirname "$m")"
	cp "$moddir/$m" "$ird/lib/modules/$kver/$m"
done
cp "$moddir"/modules.builtin "$moddir"/modules.builtin.modinfo "$moddir"/modules.order "$ird/lib/modules/$kver/"
"$DEPMOD" -b "$ird" "$kver"
say "modules: $(for m in $mods; do basename "$m" .ko; done | tr '\n' ' ')"
initrd=$CACHE/initrd.gz
(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$initrd"
say "initramfs $(($(stat -c %s "$initrd") / 1024)) KiB, kernel $(($(stat -c %s "$vmlinuz") / 1024)) KiB"

# ---- boot
log=$CACHE/console.log
append="console=ttyAMA0 rdinit=/init panic=-1 loglevel=5 edgeinfer.frames=$FRAMES edgeinfer.model=$MODEL"
say "qemu-system-aarch64 -M virt -cpu cortex-a72 -smp $SMP -m $MEM (timeout ${TIMEOUT}s, console in $log)"
boot=$(date +%s)
set +e
timeout -k 10 "$TIMEOUT" qemu-system-aarch64 -M virt -cpu cortex-a72 -smp "$SMP" -m "$MEM" \
	-nographic -no-reboot -monitor none -nic none \
	-kernel "$vmlinuz" -initrd "$initrd" -append "$append" </dev/null >"$log" 2>&1
qrc=$?
set -e
end=$(date +%s)
tr -d '\r' <"$log" >"$log.txt"

# ---- verdict
echo
echo "==== test-vm summary ($kpkg, qemu $(qemu-system-aarch64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p'), -smp $SMP)"
sed -n 's/^VMTEST BEGIN //p' "$log.txt"
sed -n 's/^VMSUM /  /p' "$log.txt"
echo "---- checks"
grep -E '^VMTEST (PASS|FAIL) ' "$log.txt" | sed 's/^VMTEST /  /' || true
problems=()
case "$qrc" in
0) ;;
124 | 137) problems+=("qemu timed out after ${TIMEOUT}s") ;;
*) problems+=("qemu exited $qrc") ;;
esac
grep -q '^VMTEST BEGIN' "$log.txt" || problems+=("the init script never started")
grep -q '^VMTEST DONE failed=0' "$log.txt" || problems+=("no 'VMTEST DONE failed=0' marker")
n=$(grep -c '^VMTEST FAIL ' "$log.txt" || true)
[ "$n" = 0 ] || problems+=("$n failed checks")
[ "$(grep -c '^VMTEST PASS ' "$log.txt" || true)" -ge 10 ] || problems+=("fewer than 10 passed checks")
if grep -v -E '^(VMTEST|VMSUM) ' "$log.txt" | grep -E 'Kernel panic|BUG:|Oops|WARNING:.*at |Call trace:' >/dev/null; then
	problems+=("the kernel reported a panic, BUG, WARNING or Oops")
fi
echo "---- time: $((end - start)) s in all, $((end - boot)) s in the VM ($(sed -n 's/^VMTEST DONE .*uptime=//p' "$log.txt") guest uptime)"
if [ "${#problems[@]}" -gt 0 ]; then
	echo "---- last 60 console lines ($log.txt):"
	tail -n 60 "$log.txt"
	for p in "${problems[@]}"; do echo "test-vm: FAIL: $p" >&2; done
	exit 1
fi
echo "test-vm: $(grep -c '^VMTEST PASS ' "$log.txt") passed, 0 failed"
