#!/usr/bin/env bash
# Run every property-test ("fuzz") target for a million cases (CASES=N to change), outside CI,
# and print one line per target: cases run, time, and whether it found anything.
# CI runs the same targets for proptest's default 256 cases as part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${CASES:-1000000}"
cargo test --release --lib --no-run -q
targets=$(cargo test --release --lib -q -- --list 2>/dev/null | sed -n 's/: test$//p' | grep '::fuzz_' || true)
[ -n "$targets" ] || { echo "no fuzz_ targets found" >&2; exit 1; }
failed=0
for t in $targets; do
  start=$(date +%s)
  if PROPTEST_CASES="$CASES" cargo test --release --lib -q -- --exact "$t" >/tmp/fuzz-$$.log 2>&1; then
    echo "$t: $CASES cases, no failure ($(( $(date +%s) - start )) s)"
  else
    failed=1
    echo "$t: FAILED after $(( $(date +%s) - start )) s; minimal input:"
    grep -A12 'minimal failing input' /tmp/fuzz-$$.log || tail -20 /tmp/fuzz-$$.log
  fi
done
rm -f /tmp/fuzz-$$.log
exit "$failed"
