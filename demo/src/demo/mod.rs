//! The demo's parts: the modes and workloads it compares, one measurement
//! ([`phase`], run in a child process; it counts the heap with
//! `greenthread_benches::alloc`),
//! and the output ([`report`]: table and JSON; [`plot`]: the SVG). The
//! `bench` subcommand, greenthread against its peers, is [`bench`].

pub(crate) mod bench;
pub(crate) mod phase;
pub(crate) mod plot;
pub(crate) mod report;

use std::fmt;

use clap::ValueEnum;

/// A runtime configuration to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModeSpec {
    /// OS-thread mode (else Green).
    pub(crate) os: bool,
    /// GIL on.
    pub(crate) gil: bool,
}

impl ModeSpec {
    /// The four configurations, in table order.
    pub(crate) const ALL: [ModeSpec; 4] = [
        ModeSpec {
            os: false,
            gil: false,
        },
        ModeSpec {
            os: true,
            gil: false,
        },
        ModeSpec {
            os: false,
            gil: true,
        },
        ModeSpec {
            os: true,
            gil: true,
        },
    ];

    /// The name used on the command line, in the table and in JSON.
    pub(crate) fn label(self) -> &'static str {
        match (self.os, self.gil) {
            (false, false) => "green",
            (true, false) => "os",
            (false, true) => "green+gil",
            (true, true) => "os+gil",
        }
    }

    /// The same configuration in the other threading mode.
    pub(crate) fn counterpart(self) -> ModeSpec {
        ModeSpec {
            os: !self.os,
            gil: self.gil,
        }
    }

    /// Parses `green`, `os`, `gil` (= `green+gil`) or `os+gil`.
    pub(crate) fn parse(s: &str) -> Result<ModeSpec, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "green" => Ok(ModeSpec {
                os: false,
                gil: false,
            }),
            "os" => Ok(ModeSpec {
                os: true,
                gil: false,
            }),
            "gil" | "green+gil" => Ok(ModeSpec {
                os: false,
                gil: true,
            }),
            "os+gil" => Ok(ModeSpec {
                os: true,
                gil: true,
            }),
            other => Err(format!(
                "unknown mode '{other}': expected green, os, gil (green+gil) or os+gil"
            )),
        }
    }
}

/// What each thread does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Workload {
    /// Sleep 20 ms, five times (the tutorial's `time.sleep` loops).
    Sleep,
    /// Take a shared Lock five times to bump a counter.
    Lock,
    /// Put an item into a shared Queue(1000) and get one back.
    Queue,
    /// Count down 2,000 steps, calling `checkpoint()` at each (CPU-bound).
    Cpu,
    /// All of the above, lighter: sleep once, lock once, one queue round
    /// trip, 400 countdown steps.
    Mixed,
}

impl Workload {
    /// One line saying what a thread does.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Workload::Sleep => "each thread sleeps 20 ms five times",
            Workload::Lock => "each thread takes a shared Lock five times to bump a counter",
            Workload::Queue => {
                "each thread puts an item into a shared Queue(1000) and gets one back"
            }
            Workload::Cpu => "each thread counts down 2,000 steps, calling checkpoint() at each",
            Workload::Mixed => {
                "each thread sleeps 20 ms, takes a shared Lock, passes an item through a \
                 Queue(1000) and counts down 400 steps calling checkpoint()"
            }
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        f.write_str(&name)
    }
}
