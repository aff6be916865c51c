//! Apple's timestamps (`2030-11-08T22:33:22+0000`) are ISO 8601 but not RFC 3339: the
//! offset has no colon. Older content tokens carry `+10:00` offsets, so parsing accepts
//! both, plus plain RFC 3339.

use std::sync::OnceLock;

use time::format_description::{self, BorrowedFormatItem};
use time::{OffsetDateTime, UtcOffset};

const NO_COLON: &str = "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]";
const NO_COLON_FRACTION: &str =
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]";
const WITH_COLON: &str = "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]";
const APPLE_OUT: &str = "[year]-[month]-[day]T[hour]:[minute]:[second]+0000";

fn formats() -> &'static [Vec<BorrowedFormatItem<'static>>; 4] {
    static FORMATS: OnceLock<[Vec<BorrowedFormatItem<'static>>; 4]> = OnceLock::new();
    FORMATS.get_or_init(|| {
        [NO_COLON, NO_COLON_FRACTION, WITH_COLON, APPLE_OUT]
            .map(|f| format_description::parse_borrowed::<1>(f).expect("static format description"))
    })
}

/// Parses a timestamp as Apple emits it (`+0000`), with a colon offset, or RFC 3339.
pub fn parse(s: &str) -> Result<OffsetDateTime, time::error::Parse> {
    let s = s.trim();
    let f = formats();
    OffsetDateTime::parse(s, &f[0])
        .or_else(|_| OffsetDateTime::parse(s, &f[1]))
        .or_else(|_| OffsetDateTime::parse(s, &f[2]))
        .or_else(|_| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339))
}

/// Formats a timestamp the way Apple's service does (UTC, `+0000`), for simulators and tests.
pub fn format(dt: OffsetDateTime) -> String {
    dt.to_offset(UtcOffset::UTC)
        .format(&formats()[3])
        .expect("formatting a UTC timestamp with a fixed description cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_apple_and_colon_offsets() {
        let a = parse("2030-11-08T22:33:22+0000").unwrap();
        assert_eq!(a.unix_timestamp(), 1_920_407_602);
        let b = parse("2030-11-09T08:33:22+10:00").unwrap();
        assert_eq!(a, b);
        let c = parse("2030-11-08T22:33:22Z").unwrap();
        assert_eq!(a, c);
        let d = parse("2030-11-08T22:33:22.250+0000").unwrap();
        assert_eq!(d.unix_timestamp(), a.unix_timestamp());
        assert!(parse("08/11/2030").is_err());
    }

    #[test]
    fn formats_like_apple() {
        let dt = parse("2030-11-09T08:33:22+10:00").unwrap();
        assert_eq!(format(dt), "2030-11-08T22:33:22+0000");
    }
}
