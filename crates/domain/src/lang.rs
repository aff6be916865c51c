/// The languages the console, API messages and CSV headers speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ja,
    #[default]
    En,
}

impl Lang {
    /// Picks Japanese or English from an `Accept-Language` header, honouring
    /// q-values; anything else falls back to English.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Lang::En;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag == "ja" || tag.starts_with("ja-") {
                Lang::Ja
            } else if tag == "en" || tag.starts_with("en-") || tag == "*" {
                Lang::En
            } else {
                continue;
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang).unwrap_or(Lang::En)
    }

    /// Chooses between the two texts of a bilingual message.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_preferences() {
        assert_eq!(Lang::from_accept_language(None), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("ja")), Lang::Ja);
        assert_eq!(Lang::from_accept_language(Some("ja-JP,ja;q=0.9")), Lang::Ja);
        assert_eq!(Lang::from_accept_language(Some("en-US;q=0.5, ja;q=0.8")), Lang::Ja);
        assert_eq!(Lang::from_accept_language(Some("fr, en;q=0.4, ja;q=0.3")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("ja;q=0")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("de-DE")), Lang::En);
    }
}
