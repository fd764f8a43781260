#!/usr/bin/env bash
# Installs what the netlab tests and the benchmark need (Debian/Ubuntu, root).
# Idempotent: does nothing when every tool is already there.
set -euo pipefail
need=()
for pair in ip:iproute2 tc:iproute2 nft:nftables sysctl:procps udp-sender:udpcast uftp:uftp /usr/bin/time:time; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "setup.sh: run as root to install: ${need[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u)
