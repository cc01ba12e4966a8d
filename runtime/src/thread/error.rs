//! Errors of thread operations.

use std::fmt;

/// Errors of [`Thread`](crate::Thread) operations, with Python's messages
/// (Python raises `RuntimeError` for all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThreadError {
    /// `start()` called a second time: "threads can only be started once".
    AlreadyStarted,
    /// `join()` before `start()`: "cannot join thread before it is started".
    NotStarted,
    /// A thread joining itself: "cannot join current thread".
    JoinSelf,
    /// `set_daemon` after `start()`: "cannot set daemon status of active thread".
    DaemonAfterStart,
    /// `start()` after the runtime's `run`/`block_on` returned:
    /// "can't create new thread at interpreter shutdown".
    ShuttingDown,
    /// The OS refused a new thread (OS-thread mode): "can't start new thread".
    StartFailed,
    /// `join()` on a `_DummyThread`: "cannot join a dummy thread".
    JoinDummy,
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ThreadError::AlreadyStarted => "threads can only be started once",
            ThreadError::NotStarted => "cannot join thread before it is started",
            ThreadError::JoinSelf => "cannot join current thread",
            ThreadError::DaemonAfterStart => "cannot set daemon status of active thread",
            ThreadError::ShuttingDown => "can't create new thread at interpreter shutdown",
            ThreadError::JoinDummy => "cannot join a dummy thread",
            ThreadError::StartFailed => "can't start new thread",
        })
    }
}

impl std::error::Error for ThreadError {}

/// The error of a [`JoinHandle`](crate::JoinHandle): the spawned thread did
/// not produce a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinError {
    /// The panic message; `None` if the thread was cancelled (runtime shut
    /// down) or ended through [`exit`](crate::exit).
    message: Option<String>,
}

impl JoinError {
    pub(crate) fn panicked(message: String) -> JoinError {
        JoinError {
            message: Some(message),
        }
    }

    pub(crate) fn cancelled() -> JoinError {
        JoinError { message: None }
    }

    /// Whether the thread panicked.
    pub fn is_panic(&self) -> bool {
        self.message.is_some()
    }

    /// Whether the thread was cancelled or exited without a value.
    pub fn is_cancelled(&self) -> bool {
        self.message.is_none()
    }

    /// The panic message, if it panicked.
    pub fn panic_message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "thread panicked: {m}"),
            None => f.write_str("thread was cancelled before it produced a value"),
        }
    }
}

impl std::error::Error for JoinError {}
