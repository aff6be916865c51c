//! Failures a test can switch on at runtime, to prove a push client survives them.

use std::time::Duration;

/// A transient refusal APNs sends when it is overloaded (reference §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// 429 `TooManyRequests`.
    TooManyRequests,
    /// 503 `ServiceUnavailable`.
    ServiceUnavailable,
}

impl Throttle {
    pub(crate) fn status(self) -> u16 {
        match self {
            Throttle::TooManyRequests => 429,
            Throttle::ServiceUnavailable => 503,
        }
    }

    pub(crate) fn reason(self) -> &'static str {
        match self {
            Throttle::TooManyRequests => "TooManyRequests",
            Throttle::ServiceUnavailable => "ServiceUnavailable",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultVerdict {
    Pass,
    CertificateExpired,
    Throttle(Throttle),
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    next: Option<(u32, Throttle)>,
    fraction: Option<(f64, Throttle)>,
    certificate_expired: bool,
    pub(crate) delay: Duration,
    draws: u64,
}

impl Faults {
    pub(crate) fn fail_next(&mut self, count: u32, throttle: Throttle) {
        self.next = (count > 0).then_some((count, throttle));
    }

    pub(crate) fn fail_fraction(&mut self, fraction: f64, throttle: Throttle) {
        self.fraction = (fraction > 0.0).then_some((fraction.min(1.0), throttle));
    }

    pub(crate) fn set_certificate_expired(&mut self, expired: bool) {
        self.certificate_expired = expired;
    }

    pub(crate) fn clear(&mut self) {
        *self = Faults {
            draws: self.draws,
            ..Faults::default()
        };
    }

    pub(crate) fn verdict(&mut self) -> FaultVerdict {
        if self.certificate_expired {
            return FaultVerdict::CertificateExpired;
        }
        if let Some((left, throttle)) = self.next {
            self.next = (left > 1).then_some((left - 1, throttle));
            return FaultVerdict::Throttle(throttle);
        }
        if let Some((fraction, throttle)) = self.fraction
            && self.draw() < fraction
        {
            return FaultVerdict::Throttle(throttle);
        }
        FaultVerdict::Pass
    }

    /// A reproducible sequence in [0, 1): the same fraction fails the same requests in
    /// every run, so a flaky-looking test is a real bug.
    fn draw(&mut self) -> f64 {
        self.draws += 1;
        let mut z = self.draws.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_n_then_pass() {
        let mut faults = Faults::default();
        faults.fail_next(2, Throttle::TooManyRequests);
        assert_eq!(faults.verdict(), FaultVerdict::Throttle(Throttle::TooManyRequests));
        assert_eq!(faults.verdict(), FaultVerdict::Throttle(Throttle::TooManyRequests));
        assert_eq!(faults.verdict(), FaultVerdict::Pass);
    }

    #[test]
    fn a_fraction_fails_about_that_share() {
        let mut faults = Faults::default();
        faults.fail_fraction(0.25, Throttle::ServiceUnavailable);
        let failed = (0..4000).filter(|_| faults.verdict() != FaultVerdict::Pass).count();
        assert!((800..1200).contains(&failed), "{failed}");
        faults.clear();
        assert_eq!(faults.verdict(), FaultVerdict::Pass);
    }

    #[test]
    fn an_expired_certificate_refuses_everything() {
        let mut faults = Faults::default();
        faults.set_certificate_expired(true);
        assert_eq!(faults.verdict(), FaultVerdict::CertificateExpired);
        faults.set_certificate_expired(false);
        assert_eq!(faults.verdict(), FaultVerdict::Pass);
    }
}
