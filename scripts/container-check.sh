#!/usr/bin/env bash
# `npm run container:check`: replays the Dockerfile's build and start commands without Docker (which cannot
# run on our build machines) and checks the production server comes up against Postgres and answers /readyz.
# The work is in scripts/container-check.ts; options: --print-plan, --tracked-only, --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx scripts/container-check.ts "$@"
