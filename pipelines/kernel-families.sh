#!/usr/bin/env bash
# Runs the numeric and stage tests (PlumbTensorTests, PlumbModelTests, PlumbStagesTests) under every
# OpenBLAS kernel family this CPU supports: OPENBLAS_CORETYPE unset (OpenBLAS's own choice), Haswell
# and Zen (AVX2 + FMA), and SkylakeX where AVX-512 is present; one release build serves them all.
# Prints one line per family and a Markdown table for docs/reliability.md; exits non-zero when any
# family fails. Extra arguments go to `swift test` (e.g. `--filter RewardTrainingTests`).
#   pipelines/kernel-families.sh [swift test arguments...]
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
has() { [[ " $flags " == *" $1 "* ]]; }
families=(unset)
if has avx2 && has fma; then families+=(Haswell Zen); fi
if has avx512f && has avx512bw && has avx512vl; then families+=(SkylakeX); fi
model=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')

swift build -c release -Xswiftc -enable-testing --build-tests >/dev/null || { echo "build failed" >&2; exit 1; }
filter=(--filter 'PlumbTensorTests|PlumbModelTests|PlumbStagesTests')
[ $# -gt 0 ] && filter=("$@")

rows=() failed=0
for family in "${families[@]}"; do
    log=$(mktemp)
    if [ "$family" = unset ]; then
        env -u OPENBLAS_CORETYPE swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing "${filter[@]}" >"$log" 2>&1
    else
        OPENBLAS_CORETYPE=$family swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing "${filter[@]}" >"$log" 2>&1
    fi
    status=$?
    summary=$(grep -E '^\s*Executed [0-9]+ tests' "$log" | tail -1 | sed -E 's/^[[:space:]]*//')
    failures=$(grep -E 'error: ' "$log" | grep -oE '[A-Za-z0-9]+Tests\.test[A-Za-z0-9_]+' | sort -u | head -5 | tr '\n' ' ')
    [ $status -ne 0 ] && failed=1
    echo "$family: exit $status; $summary ${failures:+failing: $failures}"
    rows+=("| $model | $family | $([ $status -eq 0 ] && echo pass || echo FAIL) | $summary | ${failures:-} |")
    rm -f "$log"
done
echo
echo "| CPU | OPENBLAS_CORETYPE | result | tests | failing |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $failed
