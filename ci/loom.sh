#!/usr/bin/env bash
# Loom model checks of the lock-free state machines. Run from the workspace
# root: `bash ci/loom.sh`. Each crate's models are `#[cfg(loom)]` tests whose
# names contain `loom`.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
# A target directory of its own: `--cfg loom` builds would otherwise replace
# the ordinary test build's artifacts.
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target/loom}"

# sync: the waiting engine's whole protocol with sleeping waiters (bursts of
# releases, release(n), a barging thread, the starved hand-off, a cancelled
# notified waiter), its state word alone, and the queues' waiter lists (put
# and get bursts, a cancelled notified getter).
RUSTFLAGS="--cfg loom" cargo test -p greenthread-sync --release --lib loom

# runtime: the executor's run queue (local queue, steal_half, the injector's
# take_batch and spill_half), a thread's end against a joiner (STOPPED,
# ENDED, the listener check), a cancel against a thread's first park (the
# waker kept then) and the GIL's hand-off with sleeping waiters.
RUSTFLAGS="--cfg loom" cargo test -p greenthread-runtime --release --lib loom
