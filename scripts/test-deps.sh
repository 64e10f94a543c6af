#!/bin/sh
# Installs the Debian packages the tests drive (real clients), when run as root.
# The tests use /usr/bin/aws and /usr/bin/python3 explicitly: other copies on PATH
# (pyenv shims, awscli v1) are other versions.
set -eu
PKGS="awscli python3-boto3 python3-boto s3cmd rclone"
missing=""
[ -x /usr/bin/aws ] && [ -x /usr/bin/s3cmd ] && [ -x /usr/bin/rclone ] || missing="yes"
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
