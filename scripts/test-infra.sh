#!/usr/bin/env bash
# Test infrastructure for zenbuild on a Debian-like machine, as root.
#
#   scripts/test-infra.sh install   install the Debian packages the tests use (skips what is there)
#   scripts/test-infra.sh check     say what is installed and what is missing
#
# The test run starts what it needs itself (test/infra/global-setup.ts): two registries on free loopback
# ports, and dockerd on the default socket when none answers there (as root, without systemd); it stops
# what it started. The offline base images are imported from Debian's static busybox, and (for the
# Python test) debootstrapped from the machine's Debian mirror.
set -euo pipefail

PACKAGES=(docker-registry docker.io runc busybox-static podman debootstrap)
BINARIES=(docker-registry dockerd runc busybox podman debootstrap)

missing() {
  local out=()
  for i in "${!BINARIES[@]}"; do
    b=${BINARIES[$i]}
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/bin/$b" ] || [ -x "/usr/sbin/$b" ] || [ -x "/bin/$b" ] || out+=("${PACKAGES[$i]}")
  done
  echo "${out[@]:-}"
}

# Podman's configuration for this kind of machine (see scripts/podman/containers.conf for why).
configure_podman() {
  local conf=/etc/containers/containers.conf
  if [ -w /etc/containers ] || [ "$(id -u)" = 0 ]; then
    mkdir -p /etc/containers
    if ! cmp -s "$(dirname "$0")/podman/containers.conf" "$conf" 2>/dev/null; then
      cp "$(dirname "$0")/podman/containers.conf" "$conf"
      echo "test-infra: wrote $conf"
    fi
  fi
}

case "${1:-}" in
  install)
    todo=$(missing)
    if [ -z "$todo" ]; then
      configure_podman
      echo "test-infra: everything is installed (${PACKAGES[*]})"
      exit 0
    fi
    if [ "$(id -u)" != 0 ]; then
      echo "test-infra: installing $todo needs root (apt-get); run: sudo $0 install" >&2
      exit 1
    fi
    echo "test-infra: installing $todo"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq $todo >/dev/null
    configure_podman
    ;;
  check)
    todo=$(missing)
    if [ -n "$todo" ]; then echo "test-infra: missing: $todo (run: $0 install)"; exit 1; fi
    echo "test-infra: ready (${PACKAGES[*]})"
    ;;
  *)
    echo "usage: $0 install|check" >&2
    exit 2
    ;;
esac
