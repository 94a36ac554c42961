#!/usr/bin/env bash
# The kmsdns lab: a private BIND on 127.0.0.1 with two example zones and a generated TSIG key,
# then kmsdns validate → plan → apply → plan (no changes) → render against it. Everything lives
# in a temp dir and named is stopped at the end. Nothing talks to any address but 127.0.0.1.
#
#   bash examples/lab.sh            # KEEP=1 keeps the temp dir for a look around
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"

# The build links the system GSSAPI (the `gss` feature, for Active Directory's GSS-TSIG):
# libkrb5-dev for its headers, libclang-dev for bindgen.
if ! command -v named >/dev/null || ! command -v tsig-keygen >/dev/null || ! command -v dig >/dev/null \
   || ! command -v python3 >/dev/null || [ ! -e /usr/include/gssapi/gssapi.h ] \
   || ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1; then
  echo "== installing BIND (bind9 bind9-utils bind9-dnsutils), python3 (port picking, KMS stand-in)" \
    "and the build's GSSAPI dependencies (libkrb5-dev libclang-dev)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq bind9 bind9-utils bind9-dnsutils python3 \
    libkrb5-dev libclang-dev >/dev/null
fi
echo "== building kmsdns"
cargo build --quiet --locked
KMSDNS="$PWD/target/debug/kmsdns"

LAB=$(mktemp -d /tmp/kmsdns-lab.XXXXXX)
cleanup() {
  [ -f "$LAB/named.pid" ] && kill "$(cat "$LAB/named.pid")" 2>/dev/null || true
  if [ "${KEEP:-}" = 1 ]; then echo "lab kept in $LAB"; else rm -rf "$LAB"; fi
}
trap cleanup EXIT

# A port free for both TCP and UDP on 127.0.0.1.
PORT=$(python3 - <<'PY'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass
    finally: u.close(); t.close()
PY
)

echo "== generating the TSIG key with kmsdns keygen"
"$KMSDNS" keygen kms-update -o "$LAB/kms-update.key" >/dev/null

for zone in example.com example.net; do
  cat > "$LAB/$zone.db" <<ZONE
\$TTL 300
@     SOA ns1 hostmaster 1 3600 600 86400 300
@     NS  ns1
ns1   A   127.0.0.1
kms1  A   127.0.0.1
kms2  A   127.0.0.1
ZONE
done
cat > "$LAB/named.conf" <<CONF
include "$LAB/kms-update.key";
options {
  directory "$LAB"; pid-file "$LAB/named.pid"; session-keyfile "$LAB/session.key";
  managed-keys-directory "$LAB";
  listen-on port $PORT { 127.0.0.1; }; listen-on-v6 { none; };
  recursion no; notify no; dnssec-validation no; allow-transfer { none; };
};
controls { };
zone "example.com" { type primary; file "$LAB/example.com.db";
  update-policy { grant kms-update name _vlmcs._tcp.corp.example.com. SRV; }; };
zone "example.net" { type primary; file "$LAB/example.net.db";
  update-policy { grant kms-update name _vlmcs._tcp.branch.example.net. SRV; }; };
CONF
named-checkconf "$LAB/named.conf"
echo "== starting named on 127.0.0.1:$PORT"
named -u "$(id -un)" -4 -c "$LAB/named.conf" -L "$LAB/named.log"
for _ in $(seq 50); do
  dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$PORT" example.net SOA 2>/dev/null | grep -q hostmaster && break
  sleep 0.2
done

cat > "$LAB/kmsdns.toml" <<TOML
[defaults]
ttl = 3600
key = "kms-update"

[keys.kms-update]
file = "kms-update.key"

[servers.lab]
address = "127.0.0.1:$PORT"
key = "kms-update"

[[hosts]]
name = "kms1.example.com"

[[hosts]]
name = "kms2.example.net"
priority = 10

[[domains]]
name = "corp.example.com"
server = "lab"

[[domains]]
name = "branch.example.net"
server = "lab"
hosts = [{ name = "kms2.example.net", priority = 0 }, { name = "kms1.example.com", priority = 10 }]
TOML
export KMSDNS_CONFIG="$LAB/kmsdns.toml"
run() { echo; echo "\$ kmsdns $*"; "$KMSDNS" "$@"; }
run validate
set +e
run plan --detailed-exitcode; echo "(exit code $?: 2 = changes pending)"
set -e
run apply --yes
echo; echo "\$ dig @127.0.0.1 -p $PORT _vlmcs._tcp.corp.example.com SRV +short"
dig @127.0.0.1 -p "$PORT" +norec +short _vlmcs._tcp.corp.example.com SRV
run plan --detailed-exitcode

# A stand-in for the KMS hosts: something accepting TCP on 127.0.0.1:1688 while verify runs.
python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("127.0.0.1",1688)); s.listen(); time.sleep(20)' &
KMS_PID=$!
sleep 0.3
run verify --resolver "127.0.0.1:$PORT" --server-port "$PORT" --suffix corp.example.com --suffix branch.example.net
kill "$KMS_PID" 2>/dev/null || true
run render bind
echo; echo "== lab done: validate, plan, apply, a clean re-plan and verify against a real BIND"
