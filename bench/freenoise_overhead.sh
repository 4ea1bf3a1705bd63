#!/usr/bin/env bash
# Benchmark (not a test): one denoising step for 64 frames with FreeNoise (window 16, stride 4)
# against 16 frames without, same model, same run, on this CPU, both with the engine's default
# split inference (8 frames per chunk); the unchunked 64-frame step is printed for reference.
# The per-step time is the difference between a 3-step and a 1-step run, halved, so loading and
# decoding cancel out.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/freenoise/target}"
cargo build -q -p engine --bin freenoise --profile native-release
bin="$CARGO_TARGET_DIR/native-release/freenoise"
run() { # frames steps [extra flags] -> seconds
  local start; start=$(date +%s.%N)
  "$bin" generate --model tests/fixtures/tiny-mid --prompt "a red fox running through snow" --frames "$1" \
    --height 128 --width 128 --steps "$2" --guidance 7.5 --scheduler ddim "${@:3}" 2>/dev/null
  echo "$(date +%s.%N) - $start" | bc
}
step() { echo "($(run "$1" 3 "${@:2}") - $(run "$1" 1 "${@:2}")) / 2" | bc -l; }
s16=$(step 16)
s64=$(step 64)
s64whole=$(step 64 --chunk 64)
printf 'step_seconds_16_frames_plain %.3f\n' "$s16"
printf 'step_seconds_64_frames_freenoise %.3f\n' "$s64"
printf 'step_seconds_64_frames_freenoise_unchunked %.3f\n' "$s64whole"
printf 'ratio_64_over_16 %.2f\n' "$(echo "$s64 / $s16" | bc -l)"
printf 'ratio_64_unchunked_over_16 %.2f\n' "$(echo "$s64whole / $s16" | bc -l)"
