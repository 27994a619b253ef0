#!/usr/bin/env bash
# With a Kokkos OpenMP build: the stochastic and collapse modes give the same bits at 1, 2 and 4
# threads (counter-based random numbers, integer arrivals), and so does the deterministic mode
# (a separable kernel: its row blocks, one per thread and more, and its fused steps).
set -euo pipefail
propagon=$1
flag=$2   # --kokkos-threads (3.x) or --kokkos-num-threads (4.x)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for mode in stochastic collapse deterministic; do
  replicates=$([ "$mode" = deterministic ] && echo "" || echo ", replicates: 3")
  cat > "$work/$mode.yaml" <<YAML
name: $mode
input: {synthetic: {shape: [64, 80], pattern: random}}
kernel: {preset: gaussian, size: 5}
propagation: {mode: $mode, steps: 12$replicates, boundary: reflect}
output: {every: 4}
YAML
  for t in 1 2 4; do
    "$propagon" run "$work/$mode.yaml" -q --no-progress -o "$work/$mode-$t" "$flag=$t"
  done
  for t in 2 4; do
    "$propagon" compare "$work/$mode-1" "$work/$mode-$t" --tolerance 0 --metric linf > /dev/null
    cmp "$work/$mode-1/history.csv" "$work/$mode-$t/history.csv"
  done
done
echo "identical at 1, 2 and 4 threads"
