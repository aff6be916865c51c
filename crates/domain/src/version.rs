//! Dotted version numbers as Apple writes them ("17.5.1", "3.4"), compared
//! numerically so "9.3" < "13.0" and "13" == "13.0".

use std::cmp::Ordering;

fn parts(text: &str) -> Option<Vec<u32>> {
    let parts: Option<Vec<u32>> = text.trim().split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty())
}

/// `None` when either side is not a dotted number.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (mut a, mut b) = (parts(a)?, parts(b)?);
    let len = a.len().max(b.len());
    a.resize(len, 0);
    b.resize(len, 0);
    Some(a.cmp(&b))
}

pub fn lt(a: &str, b: &str) -> Option<bool> {
    compare(a, b).map(Ordering::is_lt)
}

/// The major version ("17" of "17.5.1").
pub fn major(text: &str) -> Option<u32> {
    parts(text).and_then(|p| p.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_comparison() {
        assert_eq!(lt("9.3", "13.0"), Some(true));
        assert_eq!(compare("13", "13.0"), Some(Ordering::Equal));
        assert_eq!(compare("3.4.10", "3.4.9"), Some(Ordering::Greater));
        assert_eq!(lt("beta", "1"), None);
        assert_eq!(major("17.5.1"), Some(17));
    }
}
