#!/bin/sh
# Installs the Debian packages the tests drive, when run as root: real clients (awscli,
# boto, ansible with its amazon.aws collection, s3cmd, rclone) and what real guests need
# (QEMU, busybox-static and cpio for the test guest's initramfs, socat for rootless
# metadata forwarding, e2fsprogs for disks),
# xen-utils-4.17 + gcc so the real xl parser can check the configs the xen driver writes,
# what the cluster network runs (nftables, dnsmasq-base, conntrack, iputils-arping),
# and Chromium for the web interface's browser tests (driven by playwright-core).
# The tests use /usr/bin/aws and /usr/bin/python3 explicitly: other copies on PATH
# (pyenv shims, awscli v1) are other versions.
set -eu
PKGS="chromium chromium-driver fonts-dejavu-core awscli python3-boto3 python3-boto ansible s3cmd rclone qemu-system-x86 qemu-utils busybox-static cpio socat e2fsprogs xz-utils xen-utils-4.17 gcc nftables dnsmasq-base conntrack iputils-arping tgt qemu-block-extra"
missing=""
for f in /usr/bin/chromium /usr/sbin/nft /usr/sbin/dnsmasq /usr/sbin/conntrack /usr/bin/arping /usr/bin/aws /usr/bin/ansible-playbook /usr/bin/s3cmd /usr/bin/rclone /usr/bin/qemu-system-x86_64 /usr/bin/qemu-img /usr/bin/qemu-storage-daemon /usr/sbin/tgtd /usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so /bin/busybox /usr/bin/cpio /usr/bin/socat /usr/sbin/debugfs /usr/bin/xz /usr/lib/xen-4.17/bin/xl /usr/bin/gcc; do
  [ -x "$f" ] || missing="yes"
done
/usr/bin/python3 -c 'import boto3, boto' 2>/dev/null || missing="yes"
if [ -z "$missing" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
else
  echo "test-deps: not root; install with: sudo apt-get install $PKGS (the tests that need them are skipped)" >&2
fi
