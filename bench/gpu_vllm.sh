#!/usr/bin/env bash
# Remote inference on a lent GPU: serve a catalog model (full size, random weights) with vLLM on 127.0.0.1, then
# `vidi ask --server` and bench/remote_bench.py against it (TTFT and tokens/s at 1, 4 and 16 questions at once).
#
#   bash bench/gpu_vllm.sh [MODEL_ID]           # default qwen2.5-vl-7b; also qwen2.5-omni-7b, gemma-4-e4b, ...
#   SMOKE=1 bash bench/gpu_vllm.sh              # anywhere, no GPU: the shrunken model on the CPU through
#                                               # `transformers serve` (checks this script's steps)
#
# The lent machine has no network: it needs vLLM installed (else the script falls back to
# `transformers serve --continuous-batching` on the GPU and says so), and PyAV + openai for Vidi's client side.
# Carry their wheels (e.g. in shared/wheels, made here with
#   pip download av openai --only-binary=:all: --python-version 3.11 -d shared/wheels
# ) and they are installed from there first. Results go to $OUT (the device tool brings that folder back).
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL_ID="${1:-qwen2.5-vl-7b}"
PORT="${PORT:-8765}"
OUT="${OUT:-bench/out}"
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] && PY="${PYTHON:-.venv/bin/python}"
TRANSFORMERS_CLI="$(dirname "$PY")/transformers"
[ -x "$TRANSFORMERS_CLI" ] || TRANSFORMERS_CLI=transformers
WORK="$(mktemp -d)"
FOLDER="$WORK/$MODEL_ID"
SERVER_PID=""
mkdir -p "$OUT"
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

if [ -d shared/wheels ]; then
  "$PY" -m pip install --no-index --find-links shared/wheels av openai >/dev/null 2>&1 || true
fi

if [ "${SMOKE:-0}" = 1 ]; then
  "$PY" bench/random_model_folder.py "$MODEL_ID" "$FOLDER" --tiny --device cpu
  ENGINE=("$TRANSFORMERS_CLI" serve "$FOLDER" --host 127.0.0.1 --port "$PORT" --log-level warning)
  SERVED="$FOLDER"; LEVELS="1,4"; TOKENS=16
else
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
  "$PY" bench/random_model_folder.py "$MODEL_ID" "$FOLDER" --device cuda
  SERVED="$MODEL_ID"; LEVELS="1,4,16"; TOKENS=128
  if "$PY" -c "import vllm" 2>/dev/null; then
    # the flags the README documents: frames, images and audio per prompt; video as MP4 data URLs read with PyAV
    ENGINE=(vllm serve "$FOLDER" --served-model-name "$MODEL_ID" --host 127.0.0.1 --port "$PORT"
            --max-model-len 32768 --gpu-memory-utilization 0.85
            --limit-mm-per-prompt '{"image": 16, "video": 1, "audio": 1}'
            --media-io-kwargs '{"video": {"num_frames": -1}}')
  else
    echo "vllm is not installed here: serving with transformers serve --continuous-batching instead" | tee "$OUT/engine.txt"
    ENGINE=("$TRANSFORMERS_CLI" serve "$FOLDER" --host 127.0.0.1 --port "$PORT" --continuous-batching --device cuda)
    SERVED="$FOLDER"
  fi
fi

"${ENGINE[@]}" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited:"; tail -30 "$OUT/server.log"; exit 1; }
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/v1/models" | tee "$OUT/models.json"; echo

URL="http://127.0.0.1:$PORT"
"$PY" -c "import sys; sys.path.insert(0, '.'); from bench.remote_bench import make_video; print(make_video())" \
  >"$OUT/video.txt"
VIDEO="$(tail -1 "$OUT/video.txt")"
export VIDI_DATA_DIR="$WORK/data"
"$PY" -m core_model.cli models list --server "$URL" | tee "$OUT/models_list.txt"
"$PY" -m core_model.cli ask "$VIDEO" --start 5 --end 20 --server "$URL" --model "$SERVED" --max-new-tokens 32 \
  --json "What happens in this segment, and what is heard?" | tee "$OUT/ask.json"
"$PY" bench/remote_bench.py --server "$URL" --model "$SERVED" --concurrency "$LEVELS" --max-new-tokens "$TOKENS" \
  --video "$VIDEO" | tee "$OUT/remote_bench.txt"
