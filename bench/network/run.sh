#!/usr/bin/env bash
# npm run bench:network [-- --parts bottleneck,slow,freeze,acks] [--abr]; see bench/network/run.ts.
# The fan-out parts hold one socket per viewer in each of two processes: the open-file limit
# goes up to the hard limit, as for bench:fanout.
set -euo pipefail
cd "$(dirname "$0")/../.."
ulimit -n "$(ulimit -Hn)"
node scripts/ensure.mjs test
node scripts/build-player.mjs
exec node --import tsx bench/network/run.ts "$@"
