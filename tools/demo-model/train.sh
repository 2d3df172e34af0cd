#!/usr/bin/env bash
# Trains the demo model from scratch into demo/model (about an hour on 2 cores; see README.md here).
# Usage: bash tools/demo-model/train.sh [work dir, default /tmp/demo-train] [extra train.py flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${1:-/tmp/demo-train}"
shift || true
npx tsx tools/demo-model/write-tokenizer.ts demo/model
/usr/bin/python3 tools/demo-model/train.py --out demo/model --work "$work" "$@"
/usr/bin/python3 tools/demo-model/write_readme.py --out demo/model --work "$work" --command "npm run demo-model:train"
