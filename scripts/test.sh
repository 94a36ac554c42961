#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine: installs the DNS servers and tools the
# integration tests run (BIND, Knot, PowerDNS with its sqlite backend, dig, nsupdate,
# named-checkzone, sqlite3, script, systemd-analyze, an MIT Kerberos KDC and client, a Samba AD
# DC) and the GSSAPI build dependencies (libkrb5-dev, libclang-dev) when missing, then runs every
# test. A missing server or
# tool is a test failure, never a skip (in CI and out of it).
set -euo pipefail
cd "$(dirname "$0")/.."

# command → Debian package (the same map as debian_package() in tests/it/harness/mod.rs)
declare -A need=(
  [named]=bind9 [named-checkconf]=bind9-utils [named-checkzone]=bind9-utils [tsig-keygen]=bind9-utils
  [dig]=bind9-dnsutils [nsupdate]=bind9-dnsutils [knotd]=knot [knotc]=knot [kdig]=knot-dnsutils
  [pdns_server]=pdns-server [pdnsutil]=pdns-server [zone2sql]=pdns-server [sqlite3]=sqlite3
  [script]=bsdutils [systemd-analyze]=systemd
  [bash]=bash [groff]=groff-base [zsh]=zsh [fish]=fish [git]=git
  [samba]=samba [samba-tool]=samba-common-bin [winbindd]=winbind [ip]=iproute2
  [krb5kdc]=krb5-kdc [kdb5_util]=krb5-kdc [kadmin.local]=krb5-admin-server
  [kinit]=krb5-user [klist]=krb5-user [kdestroy]=krb5-user
)
# file → Debian package, for packages without a command (tests/it/harness/pdns.rs reads the schema)
declare -A need_file=(
  [/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql]=pdns-backend-sqlite3
  [/usr/share/samba/setup]=samba-ad-provision
  [/usr/lib/*/samba/ldb/acl.so]=samba-dsdb-modules
  [/usr/lib/*/samba/vfs/acl_xattr.so]=samba-vfs-modules
  # building the `gss` feature (libgssapi-sys): GSSAPI headers and libclang for bindgen
  [/usr/include/gssapi/gssapi.h]=libkrb5-dev
  [/usr/lib/llvm-14/lib/libclang.so]=libclang-dev
)
# Installed with --no-install-recommends: samba recommends libnss-winbind, which edits
# /etc/nsswitch.conf (the Samba DC the tests run needs nothing on the host changed).
declare -A no_recommends=(
  [samba]=1 [samba-common-bin]=1 [samba-ad-provision]=1 [samba-dsdb-modules]=1
  [samba-vfs-modules]=1 [winbind]=1 [krb5-user]=1
)
missing=()
for cmd in "${!need[@]}"; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
for file in "${!need_file[@]}"; do
  compgen -G "$file" >/dev/null || missing+=("${need_file[$file]}")
done
if ((${#missing[@]})); then
  pkgs=""; lean=""
  for pkg in $(printf '%s\n' "${missing[@]}" | sort -u); do
    if [ -n "${no_recommends[$pkg]:-}" ]; then lean+="$pkg "; else pkgs+="$pkg "; fi
  done
  echo "installing: $pkgs$lean" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  [ -z "$pkgs" ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $pkgs >/dev/null
  # shellcheck disable=SC2086
  [ -z "$lean" ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    --no-install-recommends $lean >/dev/null
fi
# The Debian packages start system-wide daemons on port 53; the tests do not use them.
if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
  systemctl stop named knot pdns smbd nmbd winbind samba-ad-dc krb5-kdc krb5-admin-server \
    >/dev/null 2>&1 || true
fi
export PATH="$PATH:/usr/sbin:/sbin"
# `--deps-only`: install what building and testing need, and stop (.ci/run builds first).
if [ "${1:-}" = "--deps-only" ]; then
  exit 0
fi
cargo test --locked --all-targets "$@"
# --all-targets builds no doc tests: run them on their own.
cargo test --locked --doc
