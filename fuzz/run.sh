#!/usr/bin/env bash
# Builds and runs every fuzz target for SECONDS each (default 60), JOBS at a time (default:
# the number of cores), and prints each target's executions, speed and coverage at the end.
# Not part of CI. Works on stable Rust through RUSTC_BOOTSTRAP=1 (cargo-fuzz passes
# nightly-only -Z flags); needs `cargo install --locked cargo-fuzz`.
#
#   fuzz/run.sh 300            # 5 minutes per target
#   TARGETS="config keyfile" fuzz/run.sh 60
#
# Corpora grow under fuzz/corpus/<target>/ (git-ignored), seeded from fuzz/seeds/<target>/;
# crashes land in fuzz/artifacts/<target>/; logs in fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${1:-60}
JOBS=${JOBS:-$(nproc)}
TARGETS=${TARGETS:-"config keyfile key_env_value resolv_conf saved_plan tsig_verify"}
export RUSTC_BOOTSTRAP=1

cargo fuzz build -O
BIN="target/$(rustc -vV | sed -n 's/^host: //p')/release"
if [ ! -d seeds ]; then
    "$BIN/make_seeds"
fi
mkdir -p logs
run_one() {
    local t=$1
    mkdir -p "corpus/$t" "artifacts/$t"
    # The binaries built above, run directly: `cargo fuzz run` would rebuild kmsdns whenever
    # git's state changes (build.rs watches it for --version).
    if "$BIN/$t" "corpus/$t" "seeds/$t" \
        -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1; then
        echo "$t: done"
    else
        echo "$t: FAILED (exit $?), see fuzz/logs/$t.log and fuzz/artifacts/$t/"
    fi
}
running=0
for t in $TARGETS; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

printf '\n%-14s %12s %9s %7s %7s %8s %s\n' target executions exec/s cov ft corpus findings
total=0
for t in $TARGETS; do
    log="logs/$t.log"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
    found=$(find "artifacts/$t" -type f | wc -l)
    printf '%-14s %12s %9s %7s %7s %8s %s\n' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found"
    total=$((total + ${runs:-0}))
done
echo "total executions: $total"
