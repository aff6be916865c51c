//! Failures a test switches on to prove a client survives them.

use std::collections::VecDeque;
use std::time::Duration;

use super::errors::Rejection;

/// An answer the simulator gives instead of processing a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VppFault {
    /// HTTP 429 with 9646 (too many requests).
    RateLimited,
    /// HTTP 503 with 9729 and `Retry-After: <seconds>`.
    Unavailable {
        /// Value of the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// HTTP 500 with 9603.
    Internal,
    /// HTTP 503 with 9644 (maintenance mode).
    Maintenance,
    /// HTTP 200 whose body is an error with this number (Apple has done this for
    /// invalid tokens).
    ErrorWithOk(i32),
}

impl VppFault {
    pub(crate) fn rejection(&self) -> Rejection {
        match self {
            VppFault::RateLimited => Rejection::new(9646),
            VppFault::Unavailable { retry_after_secs } => {
                let mut r = Rejection::new(9729).with_status(503);
                r.retry_after = Some(*retry_after_secs);
                r
            }
            VppFault::Internal => Rejection::new(9603).with_status(500),
            VppFault::Maintenance => Rejection::new(9644).with_status(503),
            VppFault::ErrorWithOk(n) => Rejection::new(*n).with_status(200),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    queue: VecDeque<VppFault>,
    pub hold_events: bool,
    pub event_delay: Option<Duration>,
    pub drop_notifications: u32,
    pub duplicate_notifications: u32,
}

impl Faults {
    pub fn push(&mut self, fault: VppFault, count: u32) {
        self.queue.extend(std::iter::repeat_n(fault, count as usize));
    }

    pub fn take(&mut self) -> Option<VppFault> {
        self.queue.pop_front()
    }

    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    pub fn clear(&mut self) {
        *self = Faults::default();
    }

    /// Whether the next notification is lost instead of delivered.
    pub fn take_drop(&mut self) -> bool {
        take_one(&mut self.drop_notifications)
    }

    /// Whether the next notification is delivered twice with the same notificationId.
    pub fn take_duplicate(&mut self) -> bool {
        take_one(&mut self.duplicate_notifications)
    }
}

fn take_one(counter: &mut u32) -> bool {
    if *counter > 0 {
        *counter -= 1;
        true
    } else {
        false
    }
}
