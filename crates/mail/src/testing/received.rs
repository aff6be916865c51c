//! A message as the sink received it, with just enough MIME decoding to
//! assert on what a person would read: RFC 2047 encoded-words in headers, and
//! a single-part `text/plain` UTF-8 body in 7bit, 8bit, quoted-printable or
//! base64. Hand-written (about 150 lines) because a full MIME parser would
//! cost more build time than everything else in this crate.

use base64::Engine as _;

/// One message accepted by [`super::SmtpSink`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`), without the angle brackets.
    pub mail_from: String,
    /// Envelope recipients (`RCPT TO`), in order.
    pub rcpt_to: Vec<String>,
    /// The message after dot-unstuffing, without the final `CRLF.CRLF`.
    pub data: Vec<u8>,
    /// Username and password of `AUTH`, if the client authenticated.
    pub credentials: Option<(String, String)>,
}

/// Why [`ReceivedMail::text_body`] could not decode the body.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("multipart bodies are not decoded by the test sink")]
    Multipart,
    #[error("unsupported charset {0:?}")]
    UnsupportedCharset(String),
    #[error("unsupported Content-Transfer-Encoding {0:?}")]
    UnsupportedEncoding(String),
    #[error("invalid base64 body: {0}")]
    Base64(String),
    #[error("body is not valid UTF-8")]
    NotUtf8,
}

impl ReceivedMail {
    /// The message as text, undecoded (lossy for non-UTF-8 bytes).
    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    fn split(&self) -> (&[u8], &[u8]) {
        match find(&self.data, b"\r\n\r\n") {
            Some(i) => (&self.data[..i], &self.data[i + 4..]),
            None => (&self.data[..], &[]),
        }
    }

    /// The first header named `name` (any case), unfolded but not decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.split();
        let head = String::from_utf8_lossy(head);
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(value) = found.as_mut() {
                    value.push_str(line);
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((key, value)) = line.split_once(':')
                && key.trim().eq_ignore_ascii_case(name)
            {
                found = Some(value.trim_start().to_owned());
            }
        }
        found
    }

    /// `Subject:` with RFC 2047 encoded-words decoded.
    pub fn subject(&self) -> Option<String> {
        self.header("Subject").map(|s| decode_header(&s))
    }

    /// The text body, decoded, with line ends as `\n`.
    pub fn text_body(&self) -> Result<String, DecodeError> {
        let content_type = self.header("Content-Type").unwrap_or_default().to_ascii_lowercase();
        if content_type.starts_with("multipart/") {
            return Err(DecodeError::Multipart);
        }
        if let Some(charset) = parameter(&content_type, "charset")
            && !matches!(charset.as_str(), "utf-8" | "utf8" | "us-ascii")
        {
            return Err(DecodeError::UnsupportedCharset(charset));
        }
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_else(|| "7bit".into())
            .trim()
            .to_ascii_lowercase();
        let (_, body) = self.split();
        let bytes = match encoding.as_str() {
            "7bit" | "8bit" | "binary" => body.to_vec(),
            "base64" => {
                let compact: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|e| DecodeError::Base64(e.to_string()))?
            }
            "quoted-printable" => decode_quoted_printable(body),
            other => return Err(DecodeError::UnsupportedEncoding(other.to_owned())),
        };
        let text = String::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8)?;
        Ok(text.replace("\r\n", "\n"))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parameter(header: &str, name: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (key, value) = p.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn decode_quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut lines = body.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // Trailing blanks are transport padding (RFC 2045 §6.7 rule 3).
        let line = line.trim_ascii_end();
        let (line, soft_break) = match line.strip_suffix(b"=") {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        let mut i = 0;
        while i < line.len() {
            match (
                line[i],
                line.get(i + 1).copied().and_then(hex),
                line.get(i + 2).copied().and_then(hex),
            ) {
                (b'=', Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                (b, _, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        if !soft_break && lines.peek().is_some() {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Decodes RFC 2047 encoded-words (B and Q, UTF-8 and US-ASCII). Adjacent
/// words are joined as bytes before UTF-8 decoding, since an encoder may split
/// a multi-byte character across two words; the blanks between them vanish
/// as RFC 2047 §6.2 says.
pub fn decode_header(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut blanks = String::new();
    let mut rest = value;
    while !rest.is_empty() {
        if let Some((bytes, after)) = encoded_word(rest) {
            // Blanks after text stay; blanks between two encoded-words go.
            if pending.is_empty() {
                out.push_str(&blanks);
            }
            blanks.clear();
            pending.extend(bytes);
            rest = after;
            continue;
        }
        let c = rest.chars().next().expect("rest is not empty");
        rest = &rest[c.len_utf8()..];
        if c == ' ' || c == '\t' {
            blanks.push(c);
            continue;
        }
        if !pending.is_empty() {
            out.push_str(&String::from_utf8_lossy(&pending));
            pending.clear();
        }
        out.push_str(&blanks);
        blanks.clear();
        out.push(c);
    }
    out.push_str(&String::from_utf8_lossy(&pending));
    out.push_str(&blanks);
    out
}

/// `=?charset?B|Q?text?=` at the start of `s`: its bytes and what follows.
fn encoded_word(s: &str) -> Option<(Vec<u8>, &str)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let (text, after) = (&inner[..end], &inner[end + 2..]);
    if text.contains([' ', '\t']) {
        return None;
    }
    // RFC 2231 allows a language suffix: utf-8*ja.
    let charset = charset.split('*').next().unwrap_or_default().to_ascii_lowercase();
    if !matches!(charset.as_str(), "utf-8" | "utf8" | "us-ascii") {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD.decode(text).ok()?,
        "Q" | "q" => {
            let raw = text.as_bytes();
            let mut out = Vec::with_capacity(raw.len());
            let mut i = 0;
            while i < raw.len() {
                match raw[i] {
                    b'_' => out.push(b' '),
                    b'=' => {
                        out.push(hex(*raw.get(i + 1)?)? << 4 | hex(*raw.get(i + 2)?)?);
                        i += 2;
                    }
                    b => out.push(b),
                }
                i += 1;
            }
            out
        }
        _ => return None,
    };
    Some((bytes, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(data: &str) -> ReceivedMail {
        ReceivedMail {
            mail_from: "a@example.com".into(),
            rcpt_to: vec!["b@example.com".into()],
            data: data.as_bytes().to_vec(),
            credentials: None,
        }
    }

    #[test]
    fn encoded_words_b_and_q_with_a_split_character() {
        // "有効期限" split inside "効" (E5 8A B9) across two B words.
        assert_eq!(
            decode_header("=?utf-8?b?5pyJ5Yo=?= =?utf-8?b?ueacn+mZkA==?="),
            "有効期限"
        );
        assert_eq!(
            decode_header("=?UTF-8?Q?caf=C3=A9_cr=C3=A8me?= is ok"),
            "café crème is ok"
        );
        assert_eq!(decode_header("plain  text"), "plain  text");
        assert_eq!(decode_header("Re: =?utf-8?B?6YCa55+l?= (2)"), "Re: 通知 (2)");
        assert_eq!(decode_header("=?iso-8859-1?Q?caf=E9?="), "=?iso-8859-1?Q?caf=E9?=");
    }

    #[test]
    fn headers_unfold_and_bodies_decode() {
        let m = mail(
            "Subject: =?utf-8?b?5pyJ5Yq5?=\r\n =?utf-8?b?5pyf6ZmQ?=\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n5pys5paH\r\n44Gn44GZ44CCCg==",
        );
        assert_eq!(m.subject().as_deref(), Some("有効期限"));
        assert_eq!(m.header("content-type").as_deref(), Some("text/plain; charset=utf-8"));
        assert_eq!(m.text_body().unwrap(), "本文です。\n");

        let qp = mail(
            "Content-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
             =E6=9C=AC=E6=96=87 long line=\r\n continues  \r\nnext=3Dline",
        );
        assert_eq!(qp.text_body().unwrap(), "本文 long line continues\nnext=line");

        let plain = mail("Subject: hello\r\n\r\nline 1\r\n..not unstuffed here\r\n");
        assert_eq!(plain.subject().as_deref(), Some("hello"));
        assert_eq!(plain.text_body().unwrap(), "line 1\n..not unstuffed here\n");
        assert_eq!(plain.header("X-Missing"), None);
    }

    #[test]
    fn unsupported_bodies_are_typed_errors() {
        let multi = mail("Content-Type: multipart/alternative; boundary=x\r\n\r\n--x--");
        assert_eq!(multi.text_body(), Err(DecodeError::Multipart));
        let sjis = mail("Content-Type: text/plain; charset=shift_jis\r\n\r\nabc");
        assert_eq!(
            sjis.text_body(),
            Err(DecodeError::UnsupportedCharset("shift_jis".into()))
        );
        let uu = mail("Content-Transfer-Encoding: x-uuencode\r\n\r\nabc");
        assert_eq!(
            uu.text_body(),
            Err(DecodeError::UnsupportedEncoding("x-uuencode".into()))
        );
    }
}
