#!/usr/bin/env bash
# Benchmark (not a test): the freenoise CLI against diffusers on the same tiny model, same
# request, on this CPU, in one run. Needs the Python reference environment
# (pip install -r tests/reference/requirements.txt). Prints both times and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/freenoise/target}"
MODEL=tests/fixtures/tiny-mid FRAMES=16 SIZE=128 STEPS=10 REPEATS=3
cargo build -q -p engine --bin freenoise --profile native-release
# diffusers needs a model_index.json to load a pipeline folder; give it one in a scratch copy.
work=$(mktemp -d)
cp -r "$MODEL" "$work/model"
cat > "$work/model/model_index.json" <<'JSON'
{"_class_name": "AnimateDiffPipeline", "_diffusers_version": "0.42.1",
 "feature_extractor": [null, null], "image_encoder": [null, null], "motion_adapter": [null, null],
 "scheduler": ["diffusers", "DDIMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
 "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNetMotionModel"],
 "vae": ["diffusers", "AutoencoderKL"]}
JSON
best=""
for _ in $(seq $REPEATS); do
  start=$(date +%s.%N)
  RAYON_NUM_THREADS=1 "$CARGO_TARGET_DIR/native-release/freenoise" generate --model "$MODEL" \
    --prompt "a red fox running through snow" --negative blurry --frames $FRAMES --height $SIZE --width $SIZE \
    --steps $STEPS --guidance 7.5 --scheduler ddim --save-video "$work/video.npy" 2>/dev/null
  t=$(echo "$(date +%s.%N) - $start" | bc)
  if [[ -z "$best" ]] || (( $(echo "$t < $best" | bc) )); then best=$t; fi
done
printf 'engine_cli_seconds %.3f\n' "$best"
ref=$(python3 bench/bench_diffusers.py --model "$work/model" --frames $FRAMES --size $SIZE --steps $STEPS --repeats $REPEATS | awk '/diffusers_seconds/ {print $2}')
printf 'diffusers_seconds %.3f\n' "$ref"
printf 'ratio_engine_over_diffusers %.2f\n' "$(echo "$best / $ref" | bc -l)"
rm -rf "$work"
