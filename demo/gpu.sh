#!/usr/bin/env bash
# Trains the demo model on a GPU machine that has a Vulkan driver but no Rust toolchain: the
# binary is built elsewhere (`cargo build -p demo --profile native-release --features gpu-train
# --bin freenoise-demo`), carried xz-compressed in .train-bin/, with the Vulkan loader's .deb
# files in .gl/. The run's f16 weights, loss log and state come back flat in $OUT (the device
# tool returns at most 8 files). Usage: demo/gpu.sh SECONDS
set -uo pipefail
budget=${1:-420}
bin=/tmp/freenoise-demo
run=/tmp/demo-run
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
xz -dc .train-bin/freenoise-demo.xz > "$bin" && chmod +x "$bin" || exit 1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
"$bin" train --run "$run" --device gpu \
  --vae-steps 1000 --vae-batch-frames 32 --clips-per-batch 16 --denoise-steps 1000000 \
  --checkpoint-every 500 --log-every 50 --max-seconds "$budget" 2>&1 | tee "$OUT/train.log"
"$bin" export --run "$run" --to /tmp/demo-export || exit 1
cp /tmp/demo-export/vae/diffusion_pytorch_model.safetensors "$OUT/vae.safetensors"
cp /tmp/demo-export/unet/diffusion_pytorch_model.safetensors "$OUT/unet.safetensors"
cp /tmp/demo-export/text_encoder/model.safetensors "$OUT/text_encoder.safetensors"
cp "$run/losses.csv" "$run/state.json" "$run/recipe.json" "$OUT/"
