#!/usr/bin/env bash
# Installs every Debian package sipwall needs to build, test, benchmark and run its lab.
# Idempotent: safe to run again; apt skips what is already installed.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: run as root (apt-get needs it)" >&2
  exit 1
fi

packages=(
  # build
  build-essential pkg-config meson ninja-build clang clang-format libclang-rt-dev
  # dataplane and control plane libraries
  dpdk dpdk-dev libdpdk-dev libhyperscan-dev libssl-dev libsrtp2-dev libpcap-dev
  prometheus-cpp-dev libnuma-dev
  # tests
  googletest libgtest-dev libgmock-dev python3 jq curl
  # lab and end-to-end peers
  iproute2 ethtool sip-tester tshark tcpdump kamailio kamailio-tls-modules openssl
  # operations: Prometheus (promtool checks the alert rules), Alertmanager (amtool),
  # systemd-analyze for the units
  prometheus prometheus-alertmanager systemd
  # fail2ban-regex checks deploy/fail2ban/sipwall-control.conf against sipwall-control's events
  fail2ban
)

export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
