#!/usr/bin/env bash
# Sets up (packaging/dev/setup.sh) and starts Vidi. Arguments go to `vidi` (e.g. a video to open).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash packaging/dev/setup.sh
exec .venv/bin/vidi "$@"
