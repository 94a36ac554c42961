#!/bin/sh
# Runs the Samba DC inside its network namespace and cleans up after it: when the test process
# ($1) is gone — a finished run, a panic, a SIGKILL — or when this script gets TERM (a SambaDc
# dropped), it stops samba, kills anything left in the namespace, deletes the namespace and the
# lab directory. It runs in a process group of its own, so a Ctrl-C of `cargo test` does not
# stop it before it has cleaned up.
# samba runs with the `single` process model: one process instead of the prefork model's ~50,
# lighter on a small CI machine, and TERM to it stops everything.
# Usage: guardian.sh TEST_PID NETNS LAB_DIR SAMBA SMB_CONF IP
set -u
test_pid=$1 ns=$2 dir=$3 samba=$4 smb_conf=$5 ip=$6
samba_pid=""

cleanup() {
    trap - TERM INT HUP
    if [ -n "$samba_pid" ]; then
        kill -TERM "$samba_pid" 2>/dev/null
        (sleep 5; kill -KILL "$samba_pid" 2>/dev/null) &
        killer=$!
        wait "$samba_pid" 2>/dev/null
        kill "$killer" 2>/dev/null
    fi
    for pid in $("$ip" netns pids "$ns" 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null
    done
    "$ip" netns del "$ns" 2>/dev/null
    if [ "${KMSDNS_KEEP_LAB:-}" = 1 ]; then
        touch "$dir/KEEP"
    else
        rm -rf "$dir"
    fi
    exit 0
}
trap cleanup TERM INT HUP

"$ip" netns exec "$ns" "$samba" -i -M single -s "$smb_conf" </dev/null >"$dir/samba.log" 2>&1 &
samba_pid=$!
echo "$samba_pid" >"$dir/samba.pid"
while kill -0 "$test_pid" 2>/dev/null; do
    sleep 0.3
done
cleanup
