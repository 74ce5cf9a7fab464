#!/usr/bin/env bash
# npm run bench:fanout [-- options]; see bench/fanout/README.md.
# Raises the open-file limit to the hard limit (each of the relay and the load generator holds
# one socket per viewer, so 6000 viewers need > 6000 descriptors per process).
set -euo pipefail
cd "$(dirname "$0")/../.."
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt 13000 ]; then
  echo "bench:fanout: open-file limit $(ulimit -n) is below 13000; runs above ~6000 viewers will fail" >&2
fi
exec node --import tsx bench/fanout/main.ts "$@"
