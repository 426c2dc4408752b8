#!/usr/bin/env bash
# certs.sh [DIR [IP...]]: makes example TLS files under DIR (default
# conf/tls/, not committed), for conf/redis_auth.yml and make bench: a CA,
# a server certificate for localhost and the IPs (default 127.0.0.1), and
# a client certificate, all signed by that CA and good for both ends of a
# peer link. For trying TLS on one machine only: production certificates
# come from your own CA.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-conf/tls}
shift || true
ips=("$@")
[ ${#ips[@]} -gt 0 ] || ips=(127.0.0.1)
san="DNS:localhost"
for ip in "${ips[@]}"; do san="$san,IP:$ip"; done
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
	-subj "/CN=dynonode example CA" -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
for name in server client; do
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=dynonode $name" \
		-keyout "$dir/$name-key.pem" -out "$dir/$name.csr" 2>/dev/null
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial -days 365 \
		-extfile <(printf "subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n" "$san") \
		-out "$dir/$name.pem" 2>/dev/null
	rm -f "$dir/$name.csr"
done
rm -f "$dir/ca.srl"
echo "certs: $dir/ca.pem, $dir/server.pem (+ -key.pem), $dir/client.pem (+ -key.pem)"
