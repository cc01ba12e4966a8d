#!/usr/bin/env bash
# Loom model checks of the lock-free state machines. Run from the workspace
# root: `bash ci/loom.sh`. Each crate's models are `#[cfg(loom)]` tests whose
# names contain `loom`.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"

# sync: the waiting engine's state word (Lock/Semaphore permits, starvation
# hand-off, bounded release).
RUSTFLAGS="--cfg loom" cargo test -p greenthread-sync --release --lib loom

# runtime: the executor's run queue (local queue, steal_half, take_batch).
RUSTFLAGS="--cfg loom" cargo test -p greenthread-runtime --release --lib loom
