#!/usr/bin/env bash
# Test infrastructure for zenbuild on a Debian-like machine, as root.
#
#   scripts/test-infra.sh install   install the Debian packages the tests use (skips what is there)
#   scripts/test-infra.sh check     say what is installed and what is missing
#   scripts/test-infra.sh images [docker] [podman]
#                                   import the offline base image zenbuild-test/busybox:1.35 (Debian's
#                                   static busybox, every applet linked, users root and app) into the
#                                   engines named (default both) that lack it
#   scripts/test-infra.sh up        install, start dockerd (unless one answers) and two registries on
#                                   127.0.0.1:5000 (open) and :5001 (htpasswd), import the busybox base
#                                   image into docker and podman, and write the test environment to $STATE/env
#   scripts/test-infra.sh down      stop exactly what `up` started
#
# With `up`, run the tests as `. /var/run/zenbuild-test-infra/env && pnpm test`: they use these
# registries instead of starting their own.
# The test run starts what it needs itself (test/infra/global-setup.ts): two registries on free loopback
# ports, and dockerd on the default socket when none answers there (as root, without systemd); it stops
# what it started. The offline base images are imported from Debian's static busybox, and (for the
# Python test) debootstrapped from the machine's Debian mirror.
set -euo pipefail

STATE=${ZENBUILD_TEST_INFRA_DIR:-/var/run/zenbuild-test-infra}
REGISTRY_PORT=${ZENBUILD_TEST_REGISTRY_PORT:-5000}
AUTH_REGISTRY_PORT=${ZENBUILD_TEST_AUTH_REGISTRY_PORT:-5001}

# unzip: the CodeBuild fake unpacks zip contexts with it, as CodeBuild does. iproute2 (ip): the tests
# that start a second dockerd give it a bridge of its own.
PACKAGES=(docker-registry docker.io runc busybox-static podman debootstrap unzip openssl iproute2)
BINARIES=(docker-registry dockerd runc busybox podman debootstrap unzip openssl ip)

missing() {
  local out=()
  for i in "${!BINARIES[@]}"; do
    b=${BINARIES[$i]}
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/bin/$b" ] || [ -x "/usr/sbin/$b" ] || [ -x "/bin/$b" ] || out+=("${PACKAGES[$i]}")
  done
  # PyYAML, what ZenML reads configs with: the YAML property tests compare zenbuild's reading with it.
  /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || out+=(python3-yaml)
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

BUSYBOX_IMAGE=zenbuild-test/busybox:1.35

# The busybox root filesystem as a tar on stdout.
busybox_rootfs() {
  local busybox root
  busybox=$(command -v busybox || true)
  [ -x "$busybox" ] || busybox=/bin/busybox
  [ -x "$busybox" ] || { echo "test-infra: busybox is not installed (run: $0 install)" >&2; return 1; }
  root=$(mktemp -d)
  mkdir -p "$root"/{bin,etc,tmp,root,proc,sys,dev,usr}
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  ln -s bin "$root/sbin"
  ln -s ../bin "$root/usr/bin"
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\n' >"$root/etc/group"
  tar -C "$root" -cf - .
  rm -rf "$root"
}

import_images() {
  local engines=("$@")
  [ ${#engines[@]} -gt 0 ] || engines=(docker podman)
  for engine in "${engines[@]}"; do
    case "$engine" in
      docker)
        if /usr/bin/docker image inspect "$BUSYBOX_IMAGE" >/dev/null 2>&1; then continue; fi
        busybox_rootfs | /usr/bin/docker import -c 'ENV PATH=/bin:/sbin:/usr/bin' - "$BUSYBOX_IMAGE" >/dev/null
        echo "test-infra: imported $BUSYBOX_IMAGE into docker"
        ;;
      podman)
        if podman image exists "localhost/$BUSYBOX_IMAGE"; then continue; fi
        busybox_rootfs | podman import --quiet --change 'ENV PATH=/bin:/sbin:/usr/bin' - "localhost/$BUSYBOX_IMAGE" >/dev/null
        echo "test-infra: imported localhost/$BUSYBOX_IMAGE into podman"
        ;;
      *)
        echo "test-infra: images: unknown engine $engine (docker or podman)" >&2
        return 2
        ;;
    esac
  done
}

case "${1:-}" in
  images)
    shift
    import_images "$@"
    ;;
  install)
    todo=$(missing)
    if [ -z "$todo" ]; then
      configure_podman
      echo "test-infra: everything is installed (${PACKAGES[*]} python3-yaml)"
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
    echo "test-infra: ready (${PACKAGES[*]} python3-yaml)"
    ;;
  up)
    "$0" install
    mkdir -p "$STATE"
    if /usr/bin/docker version >/dev/null 2>&1; then
      echo "test-infra: dockerd already answers on the default socket (left alone)"
    elif [ -n "$(grep -lx dockerd /proc/[0-9]*/comm 2>/dev/null)" ]; then
      # A busy or starting daemon answers late; a second one would take over its socket, then exit.
      for _ in $(seq 1 300); do /usr/bin/docker version >/dev/null 2>&1 && break; sleep 0.2; done
      /usr/bin/docker version >/dev/null 2>&1 || { echo "test-infra: a dockerd is running but does not answer on /var/run/docker.sock" >&2; exit 1; }
      echo "test-infra: dockerd already answers on the default socket (left alone)"
    else
      dockerd --host unix:///var/run/docker.sock --pidfile "$STATE/dockerd.pid" >"$STATE/dockerd.log" 2>&1 &
      for _ in $(seq 1 150); do /usr/bin/docker version >/dev/null 2>&1 && break; sleep 0.2; done
      /usr/bin/docker version >/dev/null 2>&1 || { echo "test-infra: dockerd did not start, see $STATE/dockerd.log" >&2; exit 1; }
      echo "started" > "$STATE/dockerd.started"
      echo "test-infra: dockerd started"
    fi
    password="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    # bcrypt cost 4: the registry checks it on every request.
    /usr/bin/python3 -W ignore -c "import crypt,sys; print('zenbuild-test:' + crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))" "$password" >"$STATE/htpasswd"
    for spec in "open:$REGISTRY_PORT:" "auth:$AUTH_REGISTRY_PORT:auth"; do
      IFS=: read -r name port auth <<<"$spec"
      mkdir -p "$STATE/$name"
      {
        echo "version: 0.1"
        echo "log: {level: error}"
        echo "storage: {filesystem: {rootdirectory: $STATE/$name}, delete: {enabled: true}}"
        echo "http: {addr: \"127.0.0.1:$port\"}"
        [ -n "$auth" ] && echo "auth: {htpasswd: {realm: zenbuild-test, path: $STATE/htpasswd}}"
      } >"$STATE/$name.yml"
      # env -i: the registry reads every REGISTRY_* variable as a config override.
      env -i PATH="$PATH" docker-registry serve "$STATE/$name.yml" >"$STATE/$name.log" 2>&1 &
      echo $! >"$STATE/$name.pid"
    done
    import_images docker podman
    sleep 0.5
    {
      echo "export ZENBUILD_TEST_REGISTRY=127.0.0.1:$REGISTRY_PORT"
      echo "export ZENBUILD_TEST_AUTH_REGISTRY=127.0.0.1:$AUTH_REGISTRY_PORT"
      echo "export ZENBUILD_TEST_REGISTRY_USER=zenbuild-test"
      echo "export ZENBUILD_TEST_REGISTRY_PASSWORD=$password"
    } >"$STATE/env"
    echo "test-infra: registries on 127.0.0.1:$REGISTRY_PORT (open) and :$AUTH_REGISTRY_PORT (htpasswd); environment in $STATE/env"
    ;;
  down)
    for name in open auth; do
      if [ -f "$STATE/$name.pid" ]; then kill "$(cat "$STATE/$name.pid")" 2>/dev/null || true; fi
    done
    if [ -f "$STATE/dockerd.started" ] && [ -f "$STATE/dockerd.pid" ]; then
      pid=$(cat "$STATE/dockerd.pid"); kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "test-infra: dockerd stopped"
    fi
    rm -rf "$STATE"
    echo "test-infra: down"
    ;;
  *)
    echo "usage: $0 install|check|images|up|down" >&2
    exit 2
    ;;
esac
