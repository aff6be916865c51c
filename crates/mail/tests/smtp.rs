//! SmtpMailer against SmtpSink over real TCP on loopback.

use std::time::Duration;

use haishin_mail::expiry::{ExpiryNotice, ExpiryThreshold};
use haishin_mail::testing::{SmtpSink, decode_header};
use haishin_mail::{MailError, Mailer, OutgoingMail, SettingsError, SmtpMailer};

const WAIT: Duration = Duration::from_secs(10);

fn mail(to: &[&str], subject: &str, body: &str) -> OutgoingMail {
    OutgoingMail {
        from: "haishin 通知 <notice@haishin.example>".into(),
        to: to.iter().map(|s| s.to_string()).collect(),
        subject: subject.into(),
        text_body: body.into(),
    }
}

#[tokio::test]
async fn japanese_subject_and_body_arrive_intact() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = SmtpMailer::from_url(&sink.url()).unwrap();
    // Long enough for lettre to fold the encoded subject over several lines.
    let subject =
        "【haishin】VPPトークン「本社 iPad 配信用(ロケーション)」は 2026年12月24日 09:00 (JST) に有効期限が切れます";
    let body = "デモ株式会社 ご担当者様\n\n次のVPPトークンは有効期限が切れました。\n.先頭がドットの行\n\
                ABC abc 123 ＡＢＣ ｱｲｳ 😀\n最後の行\n";
    mailer.send(&mail(&["admin@example.com"], subject, body)).await.unwrap();

    let received = sink.wait_for(1, WAIT).await.unwrap();
    assert_eq!(received.len(), 1);
    let m = &received[0];
    assert_eq!(m.mail_from, "notice@haishin.example");
    assert_eq!(m.rcpt_to, vec!["admin@example.com".to_string()]);
    assert_eq!(m.subject().as_deref(), Some(subject));
    assert_eq!(m.text_body().unwrap(), body);
    // Mostly non-ASCII text: lettre picks base64, which the sink decoded above.
    assert_eq!(m.header("Content-Transfer-Encoding").as_deref(), Some("base64"));
    // Headers on the wire stay ASCII: lettre encoded them (RFC 2047).
    let head = m.raw();
    let head = &head[..head.find("\r\n\r\n").unwrap()];
    assert!(head.is_ascii(), "{head}");
    assert_eq!(
        decode_header(&m.header("From").unwrap()),
        "haishin 通知 <notice@haishin.example>"
    );
    assert_eq!(m.header("Content-Type").as_deref(), Some("text/plain; charset=utf-8"));
    assert!(m.header("Message-ID").is_some());
    assert!(m.header("Date").is_some());
    assert_eq!(m.credentials, None);
}

#[tokio::test]
async fn several_recipients_get_one_message() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = SmtpMailer::from_url(&sink.url()).unwrap();
    let to = [
        "山田 太郎 <yamada@example.com>",
        "ops@example.com",
        "it-admin@example.co.jp",
    ];
    mailer
        .send(&mail(&to, "VPP token expires", "Renew it.\n"))
        .await
        .unwrap();

    let received = sink.wait_for(1, WAIT).await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].rcpt_to,
        vec![
            "yamada@example.com".to_string(),
            "ops@example.com".to_string(),
            "it-admin@example.co.jp".to_string()
        ]
    );
    assert_eq!(
        decode_header(&received[0].header("To").unwrap()),
        "山田 太郎 <yamada@example.com>, ops@example.com, it-admin@example.co.jp"
    );
    assert_eq!(received[0].subject().as_deref(), Some("VPP token expires"));
    assert_eq!(received[0].text_body().unwrap(), "Renew it.\n");
    assert_eq!(received[0].header("Content-Transfer-Encoding").as_deref(), Some("7bit"));
}

#[tokio::test]
async fn mostly_ascii_body_goes_quoted_printable() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = SmtpMailer::from_url(&sink.url()).unwrap();
    let body = "The token for the Tokyo office (東京) expires soon.\n= and . are kept.\n";
    mailer.send(&mail(&["a@example.com"], "Token", body)).await.unwrap();
    let received = sink.wait_for(1, WAIT).await.unwrap();
    assert_eq!(
        received[0].header("Content-Transfer-Encoding").as_deref(),
        Some("quoted-printable")
    );
    assert_eq!(received[0].text_body().unwrap(), body);
}

#[tokio::test]
async fn pooled_connection_carries_several_mails() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = SmtpMailer::from_url(&sink.url()).unwrap();
    for i in 1..=3 {
        let subject = format!("通知 {i}");
        mailer
            .send(&mail(&["a@example.com"], &subject, "本文\n"))
            .await
            .unwrap();
    }
    let received = sink.wait_for(3, WAIT).await.unwrap();
    let subjects: Vec<_> = received.iter().map(|m| m.subject().unwrap()).collect();
    assert_eq!(subjects, ["通知 1", "通知 2", "通知 3"]);
}

#[tokio::test]
async fn temporary_failure_is_a_retryable_typed_error() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = SmtpMailer::from_url(&sink.url()).unwrap();
    let message = mail(&["a@example.com"], "件名", "本文\n");
    sink.fail_next(1, 451);

    let err = mailer.send(&message).await.unwrap_err();
    match &err {
        MailError::Transient { code, .. } => assert_eq!(*code, 451),
        other => panic!("expected a transient error, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert!(sink.messages().is_empty());

    // The retry goes through, on the same mailer.
    mailer.send(&message).await.unwrap();
    let received = sink.wait_for(1, WAIT).await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].subject().as_deref(), Some("件名"));
}

#[tokio::test]
async fn permanent_failure_is_not_retryable() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = SmtpMailer::from_url(&sink.url()).unwrap();
    sink.fail_next(1, 550);
    let err = mailer
        .send(&mail(&["a@example.com"], "件名", "本文\n"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Permanent { code: 550, .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn credentials_from_the_url_are_used() {
    let sink = SmtpSink::start().await.unwrap();
    let url = format!("smtp://notice%40example.com:p%40ss%3Aword@127.0.0.1:{}", sink.port());
    let mailer = SmtpMailer::from_url(&url).unwrap();
    mailer.send(&mail(&["a@example.com"], "auth", "body\n")).await.unwrap();
    let received = sink.wait_for(1, WAIT).await.unwrap();
    assert_eq!(
        received[0].credentials,
        Some(("notice@example.com".to_string(), "p@ss:word".to_string()))
    );
}

#[tokio::test]
async fn expiry_notice_end_to_end() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer =
        SmtpMailer::from_url(&format!("{}?from=haishin%20%3Cnotice%40haishin.example%3E", sink.url())).unwrap();
    let notice = ExpiryNotice {
        token_name: "本社".into(),
        organisation: "デモ株式会社".into(),
        expires_at: time::macros::datetime!(2026-12-24 00:00 UTC),
        threshold: ExpiryThreshold::OneMonthBefore,
        server_name: None,
        console_url: Some("https://mdm.example.com/".into()),
    };
    let content = notice.content();
    // Empty `from`: the mailer's default sender.
    let outgoing = notice.to_mail("", vec!["admin@example.com".into()]);
    mailer.send(&outgoing).await.unwrap();

    let received = sink.wait_for(1, WAIT).await.unwrap();
    assert_eq!(received[0].mail_from, "notice@haishin.example");
    assert_eq!(received[0].subject().unwrap(), content.subject);
    assert_eq!(received[0].text_body().unwrap(), content.body);
    assert!(
        received[0]
            .text_body()
            .unwrap()
            .contains("失効日時:      2026年12月24日 09:00 (JST)")
    );
}

#[tokio::test]
async fn no_server_is_a_retryable_connection_error() {
    // A port that was free a moment ago: nothing listens there now.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mailer = SmtpMailer::from_url(&format!("smtp://127.0.0.1:{port}?timeout=5")).unwrap();
    let err = mailer.send(&mail(&["a@example.com"], "x", "y\n")).await.unwrap_err();
    assert!(
        matches!(err, MailError::Connection(_) | MailError::Timeout(_)),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[test]
fn bad_urls_give_clear_errors() {
    let err = |u: &str| SmtpMailer::from_url(u).expect_err("should fail");
    assert_eq!(
        err("imap://mail.example.com"),
        SettingsError::UnsupportedScheme("imap".into())
    );
    assert_eq!(
        err("smtp://mail.example.com?port=25").to_string(),
        "unknown SMTP URL parameter \"port\": known ones are from and timeout"
    );
    assert_eq!(
        err("smtps://user:secret@mail.example.com/inbox").to_string(),
        "SMTP URL must not have a path (found \"/inbox\")"
    );
    assert!(matches!(err("not a url"), SettingsError::MalformedUrl(_)));
}
