//! A loopback SMTP server that records what it receives.
//!
//! Hand-written on tokio: the part of RFC 5321 a client like lettre uses is a
//! few hundred lines, and the SMTP server crates on crates.io are either
//! unmaintained, full mail servers, or bring their own runtime and TLS stack;
//! none is a small test double. It speaks plain text only (no STARTTLS), so
//! it tests everything of `SmtpMailer` except the TLS handshake.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::ReceivedMail;

const MAX_LINE: u64 = 64 * 1024;
const MAX_MESSAGE: usize = 32 * 1024 * 1024;

/// `wait_for` gave up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("waited {waited:?} for {expected} messages, the sink received {received}")]
pub struct WaitTimeout {
    pub expected: usize,
    pub received: usize,
    pub waited: Duration,
}

#[derive(Default)]
struct Failures {
    remaining: usize,
    code: u16,
}

struct Shared {
    messages: Mutex<Vec<ReceivedMail>>,
    count: watch::Sender<usize>,
    failures: Mutex<Failures>,
}

/// The server; it stops when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on `127.0.0.1` on a free port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            count: watch::channel(0).0,
            failures: Mutex::new(Failures::default()),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Self { addr, shared, accept })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `smtp://127.0.0.1:<port>`, for [`crate::SmtpMailer::from_url`].
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Messages accepted so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.messages.lock().expect("sink lock").clone()
    }

    /// Waits until at least `n` messages were accepted; returns all of them.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Result<Vec<ReceivedMail>, WaitTimeout> {
        let mut count = self.shared.count.subscribe();
        match tokio::time::timeout(timeout, count.wait_for(|c| *c >= n)).await {
            Ok(Ok(_)) => Ok(self.messages()),
            _ => Err(WaitTimeout {
                expected: n,
                received: self.messages().len(),
                waited: timeout,
            }),
        }
    }

    /// Rejects the next `count` messages at the end of DATA with `code`
    /// (4xx: try again later, 5xx: rejected). Rejected messages are not recorded.
    pub fn fail_next(&self, count: usize, code: u16) {
        assert!(
            (400..600).contains(&code),
            "an SMTP failure code is 4xx or 5xx, not {code}"
        );
        *self.shared.failures.lock().expect("sink lock") = Failures { remaining: count, code };
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // The accept task owns the session tasks: aborting it ends them too.
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    sessions.spawn(session(stream, shared.clone()));
                }
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

async fn session(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    reply(&mut writer, "220 haishin-sink ESMTP test sink ready").await?;
    let mut tx = Transaction::default();
    let mut credentials: Option<(String, String)> = None;
    loop {
        let Some(line) = read_line(&mut reader).await? else {
            return Ok(());
        };
        let (verb, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let answer: String = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                tx = Transaction::default();
                "250-haishin-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 33554432".into()
            }
            "HELO" => {
                tx = Transaction::default();
                "250 haishin-sink".into()
            }
            "MAIL" => match path(arg, "FROM:") {
                _ if tx.mail_from.is_some() => "503 5.5.1 Nested MAIL command".into(),
                Some(from) => {
                    tx.mail_from = Some(from);
                    "250 2.1.0 OK".into()
                }
                None => "501 5.5.4 Syntax: MAIL FROM:<address>".into(),
            },
            "RCPT" => match path(arg, "TO:") {
                _ if tx.mail_from.is_none() => "503 5.5.1 Need MAIL before RCPT".into(),
                Some(to) if !to.is_empty() => {
                    tx.rcpt_to.push(to);
                    "250 2.1.5 OK".into()
                }
                _ => "501 5.5.4 Syntax: RCPT TO:<address>".into(),
            },
            "DATA" if tx.rcpt_to.is_empty() => "503 5.5.1 Need RCPT before DATA".into(),
            "DATA" => {
                reply(&mut writer, "354 End data with <CR><LF>.<CR><LF>").await?;
                let Some(data) = read_data(&mut reader).await? else {
                    return Ok(());
                };
                let tx = std::mem::take(&mut tx);
                accept_message(&shared, tx, data, credentials.clone())
            }
            "RSET" => {
                tx = Transaction::default();
                "250 2.0.0 OK".into()
            }
            "NOOP" => "250 2.0.0 OK".into(),
            "VRFY" => "252 2.1.5 Cannot VRFY user".into(),
            "AUTH" => match authenticate(arg, &mut reader, &mut writer).await? {
                Some(user_and_password) => {
                    credentials = Some(user_and_password);
                    "235 2.7.0 Authentication successful".into()
                }
                None => "535 5.7.8 Authentication credentials invalid".into(),
            },
            "QUIT" => {
                reply(&mut writer, "221 2.0.0 Bye").await?;
                return Ok(());
            }
            _ => "500 5.5.2 Command not recognized".to_string(),
        };
        reply(&mut writer, &answer).await?;
    }
}

fn accept_message(shared: &Shared, tx: Transaction, data: Vec<u8>, credentials: Option<(String, String)>) -> String {
    {
        let mut failures = shared.failures.lock().expect("sink lock");
        if failures.remaining > 0 {
            failures.remaining -= 1;
            return format!(
                "{} {}.0.0 Failure injected by the test sink",
                failures.code,
                failures.code / 100
            );
        }
    }
    let mut messages = shared.messages.lock().expect("sink lock");
    messages.push(ReceivedMail {
        mail_from: tx.mail_from.unwrap_or_default(),
        rcpt_to: tx.rcpt_to,
        data,
        credentials,
    });
    shared.count.send_replace(messages.len());
    format!("250 2.0.0 OK: queued as {}", messages.len())
}

async fn reply(writer: &mut OwnedWriteHalf, text: &str) -> std::io::Result<()> {
    writer.write_all(format!("{text}\r\n").as_bytes()).await
}

/// One command line without its line end; `None` at end of stream.
async fn read_line<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    if (&mut *reader).take(MAX_LINE).read_until(b'\n', &mut line).await? == 0 {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&line);
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
}

/// The message after `354`, dot-unstuffed (RFC 5321 §4.5.2). The CRLF before
/// the final dot belongs to the terminator, so it is not part of the message.
async fn read_data<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if (&mut *reader).take(MAX_LINE).read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            if data.ends_with(b"\r\n") {
                data.truncate(data.len() - 2);
            }
            return Ok(Some(data));
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        if data.len() + unstuffed.len() > MAX_MESSAGE {
            return Err(std::io::Error::other("message larger than the sink accepts"));
        }
        data.extend_from_slice(unstuffed);
    }
}

/// `<address>` after `prefix` (case-insensitive); parameters after it are ignored.
fn path(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_owned())
}

/// AUTH PLAIN (initial response or not) and AUTH LOGIN; any password is accepted.
async fn authenticate<R: AsyncBufReadExt + Unpin>(
    arg: &str,
    reader: &mut R,
    writer: &mut OwnedWriteHalf,
) -> std::io::Result<Option<(String, String)>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let decode = |s: &str| b64.decode(s.trim()).ok().and_then(|b| String::from_utf8(b).ok());
    let (mechanism, initial) = arg.split_once(' ').unwrap_or((arg, ""));
    match mechanism.to_ascii_uppercase().as_str() {
        "PLAIN" => {
            let response = if initial.is_empty() {
                reply(writer, "334 ").await?;
                read_line(reader).await?.unwrap_or_default()
            } else {
                initial.to_owned()
            };
            // authzid NUL authcid NUL password
            Ok(decode(&response).and_then(|plain| {
                let mut parts = plain.split('\0').skip(1);
                Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
            }))
        }
        "LOGIN" => {
            reply(writer, &format!("334 {}", b64.encode("Username:"))).await?;
            let user = read_line(reader).await?.and_then(|l| decode(&l));
            reply(writer, &format!("334 {}", b64.encode("Password:"))).await?;
            let password = read_line(reader).await?.and_then(|l| decode(&l));
            Ok(user.zip(password))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_taken_from_between_angle_brackets() {
        assert_eq!(
            path("FROM:<a@example.com> BODY=8BITMIME", "FROM:").as_deref(),
            Some("a@example.com")
        );
        assert_eq!(path("from: <a@example.com>", "FROM:").as_deref(), Some("a@example.com"));
        assert_eq!(path("TO:<>", "TO:").as_deref(), Some(""));
        assert_eq!(path("TO:a@example.com", "TO:"), None);
        assert_eq!(path("FROM:<a@example.com>", "TO:"), None);
    }

    #[tokio::test]
    async fn data_is_dot_unstuffed_and_ends_before_the_terminator() {
        let input: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\nlast\r\n.\r\nNOOP\r\n";
        let mut reader = BufReader::new(input);
        let data = read_data(&mut reader).await.unwrap().unwrap();
        assert_eq!(data, b"Subject: x\r\n\r\n.leading dot\r\nlast");
        assert_eq!(read_line(&mut reader).await.unwrap().as_deref(), Some("NOOP"));
    }
}
