#!/usr/bin/env bash
# Install what the test suite uses, when it is missing: git, Redis, Chromium
# (driven by Playwright), bubblewrap (the local build sandbox), and Docker
# (the container runner), whose daemon is started when none answers, and
# docker-compose (to validate compose.yaml), and PostgreSQL (the suite runs on it
# too; the tests start a server of their own).
set -euo pipefail

if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null; then
  sudo="sudo"
else
  sudo="unavailable"
fi

missing=()
command -v git >/dev/null || missing+=(git)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v pgrep >/dev/null || missing+=(procps)
command -v setpriv >/dev/null || missing+=(util-linux)
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$sudo" = unavailable ]; then
    echo "Missing system packages: ${missing[*]}. Install them (apt-get install ${missing[*]}) and run the tests again." >&2
    exit 1
  fi
  echo "Installing system packages for the tests: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if [ "$sudo" = unavailable ]; then
    echo "No Docker daemon answers; start one (dockerd) to run the Docker tests." >&2
    exit 1
  fi
  echo "Starting dockerd"
  $sudo sh -c 'nohup dockerd >/var/log/slipway-test-dockerd.log 2>&1 &'
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/slipway-test-dockerd.log" >&2; exit 1; }
fi
