#!/usr/bin/env bash
# Installs what the tests and the daemon need, only when missing: one
# apt-get update, then one apt-get install of the missing packages.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v memcached >/dev/null 2>&1 || need+=(memcached)
command -v curl >/dev/null 2>&1 || need+=(curl)
# The TLS tests read openssl s_client's view of a peer port.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The Python client test uses Debian's python3 with its redis module.
/usr/bin/python3 -c 'import redis' >/dev/null 2>&1 || need+=(python3-redis)
for extra in "$@"; do
	command -v "${extra%%:*}" >/dev/null 2>&1 || need+=("${extra#*:}")
done
if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
