#!/usr/bin/env bash
# Sets up (packaging/dev/setup.sh) and runs Vidi's whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash packaging/dev/setup.sh
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
