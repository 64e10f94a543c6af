#!/bin/sh
# Builds the tiny bootable test guest from Debian packages into OUT (default
# /var/tmp/euca-test-guest), once: reruns return at once when it is complete.
#   vmlinux          Debian's kernel as an ELF (PVH entry: boots twice as fast under TCG)
#   vmlinuz          the same kernel as shipped (bzImage)
#   initrd.cpio.gz   busybox-static + virtio/ext4 modules; /init mounts root=/dev/vda and switch_roots
#   root.ext4        busybox root (mke2fs -d, no mount) whose init gets an address by DHCP,
#                    answers TCP on ports 22 and 2222 with an SSH-style banner naming the
#                    instance, fetches instance-id and user-data from 169.254.169.254, prints
#                    them on the console (EUCA-INSTANCE-ID=..., EUCA-USER-DATA=...), then idles;
#                    port 2224 lists its disks by serial and reads or writes a line at a disk's start
# Needs: apt-get (download only), dpkg-deb, busybox-static, cpio, e2fsprogs, xz-utils.
set -eu
OUT=${1:-/var/tmp/euca-test-guest}
VERSION=4   # bump when the guest changes, so cached copies are rebuilt
[ "$(cat "$OUT/complete" 2>/dev/null | tail -1)" = "v$VERSION" ] && exit 0
mkdir -p "$OUT"
W=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"

pkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6/{print $2; exit}'; }
PKG=$(pkg)
[ -n "$PKG" ] || { apt-get update -qq >/dev/null && PKG=$(pkg); }   # fresh machine: no package lists yet
[ -n "$PKG" ] || { echo "test-guest: cannot find Debian's linux-image-amd64 (apt sources?)" >&2; exit 1; }
KV=${PKG#linux-image-}
apt-get download -qq "$PKG" >/dev/null
dpkg-deb -x "${PKG}"_*.deb k
cp "k/boot/vmlinuz-$KV" vmlinuz
# The bzImage carries the ELF kernel as an xz stream; QEMU boots the ELF through its PVH entry.
OFF=$(grep -abo "$(printf '\3757zXZ')" vmlinuz | head -1 | cut -d: -f1)
tail -c +"$((OFF + 1))" vmlinuz | xz -dc 2>/dev/null > vmlinux || [ -s vmlinux ]

# initramfs: busybox, the modules a virtio guest needs, and /init.
R=initrd
mkdir -p $R/bin $R/proc $R/sys $R/dev $R/newroot $R/lib/modules/$KV
cp /bin/busybox $R/bin/busybox
for m in virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk crc16 mbcache jbd2 crc32c_generic ext4; do
  f=$(cd k/lib/modules/$KV && find kernel -name "$m.ko" | head -1)
  [ -n "$f" ] || { echo "test-guest: module $m missing from $PKG" >&2; exit 1; }
  mkdir -p "$R/lib/modules/$KV/$(dirname "$f")"
  cp "k/lib/modules/$KV/$f" "$R/lib/modules/$KV/$f"
done
cp k/lib/modules/$KV/modules.builtin k/lib/modules/$KV/modules.order $R/lib/modules/$KV/
busybox depmod -b "$PWD/$R" "$KV"
cat > $R/init <<'EOS'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in virtio_pci virtio_net virtio_blk crc32c_generic ext4; do modprobe $m; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
mount -t ext4 /dev/vda /newroot || { echo "EUCA-ROOT-MOUNT-FAILED"; sleep 1; poweroff -f; }
mount --move /dev /newroot/dev; umount /proc /sys
exec switch_root /newroot /sbin/init
EOS
chmod +x $R/init
(cd $R && find . | cpio -o -H newc --quiet | gzip -1) > initrd.cpio.gz

# root filesystem: busybox and an init that reports what the metadata service says.
D=rootdisk
mkdir -p $D/bin $D/sbin $D/proc $D/sys $D/dev $D/tmp $D/run $D/etc $D/root $D/usr/share/udhcpc
cp /bin/busybox $D/bin/busybox
for a in $(busybox --list); do [ "$a" = busybox ] || ln -s busybox "$D/bin/$a"; done
cat > $D/usr/share/udhcpc/default.script <<'EOS'
#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via ${router%% *} dev "$interface"
    echo "EUCA-DHCP $interface $ip" ;;
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
esac
exit 0
EOS
chmod +x $D/usr/share/udhcpc/default.script
# What a connection to port 22 or 2222 gets: an SSH version line, as sshd sends first, naming the
# guest; then what the client sends is echoed back, so a connection stays open as long as it likes.
cat > $D/sbin/euca-banner <<'EOS'
#!/bin/sh
echo "SSH-2.0-euca-test-guest $(cat /run/instance-id 2>/dev/null || echo unknown)"
exec cat
EOS
chmod +x $D/sbin/euca-banner
# Port 2224: the disks the guest sees ("DISK vdb serial=vol-… sectors=…", then "END"); then
# "write SERIAL TEXT" puts TEXT on the first sector of that disk, "read SERIAL" prints it back.
cat > $D/sbin/euca-disks <<'EOS'
#!/bin/sh
dev() { for d in /sys/block/vd*; do [ "$(cat "$d/serial" 2>/dev/null)" = "$1" ] && echo "/dev/${d##*/}"; done; }
for d in /sys/block/vd*; do echo "DISK ${d##*/} serial=$(cat "$d/serial" 2>/dev/null) sectors=$(cat "$d/size")"; done
echo END
while read -r cmd serial text; do
  case "$cmd" in
    write) printf '%s\n' "$text" | dd of="$(dev "$serial")" bs=512 conv=sync,fsync 2>/dev/null && echo "WROTE $serial" || echo "FAILED $serial";;
    read) echo "READ $serial $(dd if="$(dev "$serial")" bs=512 count=1 2>/dev/null | head -1)";;
  esac
done
EOS
chmod +x $D/sbin/euca-disks
cat > $D/sbin/init <<'EOS'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys
[ -e /dev/null ] || mount -t devtmpfs dev /dev
echo "EUCA-GUEST-BOOTED up=$(cut -d' ' -f1 /proc/uptime)"
[ -s /root/.ssh/authorized_keys ] && echo "EUCA-SSH-KEY $(cut -d' ' -f1 /root/.ssh/authorized_keys)"
grep -q 'swap' /proc/cmdline || true
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -t 5 -T 1 -n -q -s /usr/share/udhcpc/default.script
for port in 22 2222; do nc -ll -p $port -e /sbin/euca-banner & done
nc -ll -p 2224 -e /sbin/euca-disks &
md() { timeout 10 wget -q -O - "http://169.254.169.254/latest/$1"; }
md meta-data/instance-id > /run/instance-id
echo "EUCA-INSTANCE-ID=$(cat /run/instance-id)"
echo "EUCA-USER-DATA=$(md user-data)"
# Safety probe: anything but the metadata forward must be unreachable (TEST-NET-1, never routed).
timeout 2 wget -q -O - http://192.0.2.1/ >/dev/null 2>&1 && echo "EUCA-OUTSIDE=reachable" || echo "EUCA-OUTSIDE=blocked"
echo "EUCA-GUEST-READY"
while true; do sleep 3600; done
EOS
chmod +x $D/sbin/init
mke2fs -q -t ext4 -L euca-root -d $D root.ext4 32M >/dev/null

mv vmlinux vmlinuz initrd.cpio.gz root.ext4 "$OUT"/
printf '%s\nv%s\n' "$KV" "$VERSION" > "$OUT/complete"
