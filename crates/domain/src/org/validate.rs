//! Field rules shared by the API, the CSV importer and the services, so a
//! value refused in one place is refused everywhere with the same words.

use crate::DomainError;

/// A (field, Japanese, English) explanation of why a value is refused.
pub type Refusal = (&'static str, String, String);

pub fn refusal(field: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Refusal {
    (field, ja.into(), en.into())
}

impl From<Refusal> for DomainError {
    fn from((field, ja, en): Refusal) -> Self {
        DomainError::invalid(field, ja, en)
    }
}

pub fn required(field: &'static str, value: &str, max: usize) -> Result<String, Refusal> {
    let value = value.trim();
    if value.is_empty() {
        return Err(refusal(field, "必須項目です。", "is required."));
    }
    limit(field, value, max)
}

pub fn limit(field: &'static str, value: &str, max: usize) -> Result<String, Refusal> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(refusal(
            field,
            format!("{max} 文字以内で入力してください。"),
            format!("must be at most {max} characters."),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(refusal(
            field,
            "制御文字は使用できません。",
            "must not contain control characters.",
        ));
    }
    Ok(value.to_owned())
}

/// Optional text: blank means "none".
pub fn optional(field: &'static str, value: Option<&str>, max: usize) -> Result<Option<String>, Refusal> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => limit(field, v, max).map(Some),
    }
}

pub fn serial_number(value: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(v) = optional("serial_number", value, 32)? else {
        return Ok(None);
    };
    if v.len() < 8 || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(refusal(
            "serial_number",
            format!("「{v}」はシリアル番号として不正です(英数字8〜32文字)。"),
            format!("'{v}' is not a serial number (8 to 32 letters and digits)."),
        ));
    }
    Ok(Some(v.to_ascii_uppercase()))
}

pub fn udid(value: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(v) = optional("udid", value, 64)? else {
        return Ok(None);
    };
    let hex = v.chars().filter(|c| *c != '-').count();
    if hex < 20 || !v.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(refusal(
            "udid",
            format!("「{v}」はUDIDとして不正です(16進数とハイフン)。"),
            format!("'{v}' is not a UDID (hexadecimal digits and dashes)."),
        ));
    }
    Ok(Some(v))
}

/// Accepts `aa:bb:cc:dd:ee:ff`, `AA-BB-...` or `aabbccddeeff`; stores the
/// lower-case colon form so searches match however it was typed.
pub fn mac_address(value: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(v) = optional("wifi_mac", value, 32)? else {
        return Ok(None);
    };
    let digits: String = v.chars().filter(|c| *c != ':' && *c != '-').collect();
    if digits.len() != 12 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(refusal(
            "wifi_mac",
            format!("「{v}」はWi-Fi MACアドレスとして不正です(例: 00:11:22:aa:bb:cc)。"),
            format!("'{v}' is not a Wi-Fi MAC address (e.g. 00:11:22:aa:bb:cc)."),
        ));
    }
    let lower = digits.to_ascii_lowercase();
    let pairs: Vec<&str> = (0..6).map(|i| &lower[i * 2..i * 2 + 2]).collect();
    Ok(Some(pairs.join(":")))
}

pub fn os_version(value: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(v) = optional("os_version", value, 32)? else {
        return Ok(None);
    };
    if !v
        .split('.')
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(refusal(
            "os_version",
            format!("「{v}」はOSバージョンとして不正です(例: 17.4.1)。"),
            format!("'{v}' is not an OS version (e.g. 17.4.1)."),
        ));
    }
    Ok(Some(v))
}

pub fn email(value: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(v) = optional("email", value, 254)? else {
        return Ok(None);
    };
    let valid = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !v.contains(char::is_whitespace)
        }
        None => false,
    };
    if !valid {
        return Err(refusal(
            "email",
            format!("「{v}」はメールアドレスとして不正です。"),
            format!("'{v}' is not an email address."),
        ));
    }
    Ok(Some(v))
}

pub fn phone(field: &'static str, value: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(v) = optional(field, value, 32)? else {
        return Ok(None);
    };
    if !v.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c)) {
        return Err(refusal(
            field,
            format!("「{v}」は電話番号として不正です(数字と + - ( ) のみ)。"),
            format!("'{v}' is not a phone number (digits and + - ( ) only)."),
        ));
    }
    Ok(Some(v))
}

/// Device and employee numbers are typed by people and printed on labels: no
/// spaces, no slashes, at most 64 characters.
pub fn identifier(field: &'static str, label_ja: &str, label_en: &str, value: &str) -> Result<String, Refusal> {
    let v = required(field, value, 64)?;
    if v.chars().any(|c| c.is_whitespace() || c == '/' || c == '\\') {
        return Err(refusal(
            field,
            format!("{label_ja}に空白や / は使用できません。"),
            format!("{label_en} must not contain spaces or slashes."),
        ));
    }
    Ok(v)
}

pub fn device_number(value: &str) -> Result<String, Refusal> {
    identifier("device_number", "端末番号", "A device number", value)
}

pub fn group_name(value: &str) -> Result<String, Refusal> {
    let v = required("name", value, 100)?;
    if v.contains('/') {
        return Err(refusal(
            "name",
            "グループ名に / は使用できません(階層の区切りに使われます)。",
            "A group name must not contain '/', which separates levels of the tree.",
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses() {
        assert_eq!(
            mac_address(Some("AA-BB-CC-00-11-22")).unwrap().unwrap(),
            "aa:bb:cc:00:11:22"
        );
        assert_eq!(mac_address(Some("aabbcc001122")).unwrap().unwrap(), "aa:bb:cc:00:11:22");
        assert!(mac_address(Some("aa:bb")).is_err());
        assert_eq!(serial_number(Some(" f9fxk0abcd12 ")).unwrap().unwrap(), "F9FXK0ABCD12");
        assert!(serial_number(Some("短い")).is_err());
        assert_eq!(serial_number(Some("  ")).unwrap(), None);
        assert!(udid(Some("00008030-001A2B3C4D5E802E")).is_ok());
        assert!(udid(Some("not-a-udid")).is_err());
        assert!(os_version(Some("17.4.1")).is_ok());
        assert!(os_version(Some("17..1")).is_err());
        assert!(email(Some("taro@example.jp")).is_ok());
        assert!(email(Some("taro@")).is_err());
        assert!(phone("phone1", Some("03-1234-5678")).is_ok());
        assert!(phone("phone1", Some("内線12")).is_err());
        assert!(group_name("営業/東京").is_err());
        assert!(required("name", "   ", 10).is_err());
        assert!(limit("name", &"あ".repeat(11), 10).is_err());
        assert!(limit("name", "a\u{7}b", 10).is_err());
        assert!(device_number("D 001").is_err());
    }
}
