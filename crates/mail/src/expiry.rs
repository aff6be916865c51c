//! VPP content token expiry notices (SPEC T4, 失効通知).
//!
//! Apple's content tokens last one year. Each token with notices enabled gets
//! one mail a month before it expires and one when it has expired. The mail is
//! bilingual, Japanese first: administrators of Japanese organisations read
//! the first part, others scroll down. Wording and menu labels follow the
//! console (外部サービス連携 > VPPトークン > サーバトークンの更新).

use time::macros::offset;
use time::{OffsetDateTime, UtcOffset};

use crate::OutgoingMail;

const JST: UtcOffset = offset!(+9);

/// Which of the two notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpiryThreshold {
    /// 失効日時の1ヶ月前.
    OneMonthBefore,
    /// 失効時.
    Expired,
}

impl ExpiryThreshold {
    /// When this notice becomes due for a token expiring at `expires_at`.
    ///
    /// "One month" is the same day and time of the previous calendar month in
    /// JST, clamped to that month's last day (31 March → 28/29 February), so
    /// the date in the mail matches what a Japanese reader counts.
    pub fn due_at(self, expires_at: OffsetDateTime) -> OffsetDateTime {
        match self {
            ExpiryThreshold::Expired => expires_at,
            ExpiryThreshold::OneMonthBefore => {
                let local = expires_at.to_offset(JST);
                let month = local.month().previous();
                let year = if month == time::Month::December {
                    local.year() - 1
                } else {
                    local.year()
                };
                let day = local.day().min(month.length(year));
                let date = time::Date::from_calendar_date(year, month, day).expect("clamped day is valid");
                local.replace_date(date).to_offset(expires_at.offset())
            }
        }
    }

    /// A stable key for recording "sent", e.g. in a unique database column.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryThreshold::OneMonthBefore => "one_month_before",
            ExpiryThreshold::Expired => "expired",
        }
    }
}

/// Everything a notice says about one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryNotice {
    /// The token's location (場所) name as Apple reports it, or the name
    /// given in haishin.
    pub token_name: String,
    pub organisation: String,
    pub expires_at: OffsetDateTime,
    pub threshold: ExpiryThreshold,
    /// Shown in the subject tag and body when several servers send mail.
    pub server_name: Option<String>,
    /// Link to the console, e.g. `https://mdm.example.com/`.
    pub console_url: Option<String>,
}

/// Subject and plain-text body of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeContent {
    pub subject: String,
    pub body: String,
}

impl ExpiryNotice {
    pub fn content(&self) -> NoticeContent {
        expiry_notice(self)
    }

    /// The notice as a mail from `from` to the token's configured addresses.
    pub fn to_mail(&self, from: impl Into<String>, to: Vec<String>) -> OutgoingMail {
        let NoticeContent { subject, body } = self.content();
        OutgoingMail {
            from: from.into(),
            to,
            subject,
            text_body: body,
        }
    }
}

/// `2026年12月24日 09:00 (JST)`.
pub fn format_jst(at: OffsetDateTime) -> String {
    let t = at.to_offset(JST);
    format!(
        "{}年{}月{}日 {:02}:{:02} (JST)",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `2026-12-24 00:00 UTC`.
pub fn format_utc(at: OffsetDateTime) -> String {
    let t = at.to_offset(UtcOffset::UTC);
    format!(
        "{}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// Builds the subject and body of one notice.
pub fn expiry_notice(n: &ExpiryNotice) -> NoticeContent {
    let tag = n
        .server_name
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or("haishin");
    let jst = format_jst(n.expires_at);
    let utc = format_utc(n.expires_at);
    let subject = match n.threshold {
        ExpiryThreshold::OneMonthBefore => format!(
            "【{tag}】VPPトークン「{}」は {jst} に有効期限が切れます / VPP token \"{}\" expires on {utc}",
            n.token_name, n.token_name
        ),
        ExpiryThreshold::Expired => format!(
            "【{tag}】VPPトークン「{}」の有効期限が切れました / VPP token \"{}\" has expired",
            n.token_name, n.token_name
        ),
    };

    let mut b = String::new();
    japanese(&mut b, n, &jst);
    b.push_str("\n----------------------------------------------------------------\n\n");
    english(&mut b, n, &utc, &jst);
    NoticeContent { subject, body: b }
}

fn japanese(b: &mut String, n: &ExpiryNotice, jst: &str) {
    b.push_str(&format!("{} ご担当者様\n\n", n.organisation));
    match n.threshold {
        ExpiryThreshold::OneMonthBefore => {
            b.push_str("次のVPPトークンは、およそ1ヶ月後に有効期限が切れます。\n");
            b.push_str("有効期限が切れると、このトークンのアプリとブックの配信、ライセンスの割り当てと回収、\n");
            b.push_str("同期ができなくなります。失効日時までにVPPトークンを更新してください。\n\n");
        }
        ExpiryThreshold::Expired => {
            b.push_str("次のVPPトークンは有効期限が切れました。\n");
            b.push_str("このトークンのアプリとブックの配信、ライセンスの割り当てと回収、同期は、\n");
            b.push_str("更新するまで行えません。早めにVPPトークンを更新してください。\n\n");
        }
    }
    b.push_str(&format!("  組織:          {}\n", n.organisation));
    b.push_str(&format!("  VPPトークン:   {}\n", n.token_name));
    b.push_str(&format!("  失効日時:      {jst}\n"));
    if let Some(server) = &n.server_name {
        b.push_str(&format!("  サーバ:        {server}\n"));
    }
    b.push_str("\n■ 更新の手順\n");
    b.push_str("1. Apple Business Manager (ABM) または Apple School Manager (ASM) に\n");
    b.push_str("   管理対象Apple IDでサインインします。\n");
    b.push_str("2. 「設定」>「Apps and Books」で、このトークンと同じ場所(ロケーション)の\n");
    b.push_str("   コンテンツトークンをダウンロードします。\n");
    b.push_str("   別の場所のトークンや、失効日時が今より前のトークンでは更新できません。\n");
    b.push_str("3. haishin の管理画面で「外部サービス連携」>「VPPトークン」を開き、\n");
    b.push_str("   トークンが登録されているグループを選んで「サーバトークンの更新」から\n");
    b.push_str("   ダウンロードしたファイルを登録します。\n");
    b.push_str("   ライセンス共有している場合、共有先のグループにも更新が反映されます。\n");
    if let Some(url) = &n.console_url {
        b.push_str(&format!("\n管理画面: {url}\n"));
    }
    b.push_str("\nこのメールは haishin が自動で送信しています。通知の宛先や有効・無効は、\n");
    b.push_str("「外部サービス連携」>「VPPトークン」の失効通知の設定で変更できます。\n");
}

fn english(b: &mut String, n: &ExpiryNotice, utc: &str, jst: &str) {
    b.push_str(&format!("To the administrators of {}\n\n", n.organisation));
    match n.threshold {
        ExpiryThreshold::OneMonthBefore => {
            b.push_str("The VPP content token below expires in about one month. Once it has\n");
            b.push_str("expired, its apps and books can no longer be distributed, licenses can\n");
            b.push_str("be neither assigned nor revoked, and it cannot be synced. Please renew\n");
            b.push_str("it before the expiry date.\n\n");
        }
        ExpiryThreshold::Expired => {
            b.push_str("The VPP content token below has expired. Until it is renewed, its apps\n");
            b.push_str("and books cannot be distributed, licenses can be neither assigned nor\n");
            b.push_str("revoked, and it cannot be synced. Please renew it as soon as possible.\n\n");
        }
    }
    b.push_str(&format!("  Organisation:  {}\n", n.organisation));
    b.push_str(&format!("  VPP token:     {}\n", n.token_name));
    b.push_str(&format!("  Expires:       {utc} ({jst})\n"));
    if let Some(server) = &n.server_name {
        b.push_str(&format!("  Server:        {server}\n"));
    }
    b.push_str("\nHow to renew\n");
    b.push_str("1. Sign in to Apple Business Manager or Apple School Manager with a\n");
    b.push_str("   Managed Apple ID.\n");
    b.push_str("2. In Settings > Apps and Books, download the content token of the same\n");
    b.push_str("   location as this token. A token of another location, or one that\n");
    b.push_str("   expires earlier than the current one, cannot renew it.\n");
    b.push_str("3. In the haishin console, open 外部サービス連携 (Integrations) >\n");
    b.push_str("   VPPトークン (VPP tokens), select the group the token is registered in,\n");
    b.push_str("   choose サーバトークンの更新 (Renew server token) and upload the file.\n");
    b.push_str("   Groups sharing the token's licenses are renewed with it.\n");
    if let Some(url) = &n.console_url {
        b.push_str(&format!("\nConsole: {url}\n"));
    }
    b.push_str("\nThis mail was sent automatically by haishin. Recipients and whether\n");
    b.push_str("notices are sent are set in the token's expiry notice settings.\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn notice(threshold: ExpiryThreshold) -> ExpiryNotice {
        ExpiryNotice {
            token_name: "本社 iPad".into(),
            organisation: "デモ株式会社".into(),
            expires_at: datetime!(2026-12-24 00:00 UTC),
            threshold,
            server_name: None,
            console_url: Some("https://mdm.example.com/".into()),
        }
    }

    #[test]
    fn dates_are_shown_in_jst_and_utc() {
        let at = datetime!(2026-12-23 15:30 UTC);
        assert_eq!(format_jst(at), "2026年12月24日 00:30 (JST)");
        assert_eq!(format_utc(at), "2026-12-23 15:30 UTC");
        assert_eq!(
            format_jst(datetime!(2026-12-24 00:00 UTC)),
            "2026年12月24日 09:00 (JST)"
        );
    }

    #[test]
    fn one_month_notice_content() {
        let c = notice(ExpiryThreshold::OneMonthBefore).content();
        assert_eq!(
            c.subject,
            "【haishin】VPPトークン「本社 iPad」は 2026年12月24日 09:00 (JST) に有効期限が切れます / VPP token \"本社 iPad\" expires on 2026-12-24 00:00 UTC"
        );
        assert!(
            c.body
                .starts_with("デモ株式会社 ご担当者様\n\n次のVPPトークンは、およそ1ヶ月後に"),
            "{}",
            c.body
        );
        assert!(c.body.contains("  失効日時:      2026年12月24日 09:00 (JST)\n"));
        assert!(c.body.contains("「外部サービス連携」>「VPPトークン」"));
        assert!(c.body.contains("「サーバトークンの更新」"));
        assert!(c.body.contains("「設定」>「Apps and Books」"));
        assert!(
            c.body
                .contains("  Expires:       2026-12-24 00:00 UTC (2026年12月24日 09:00 (JST))\n")
        );
        assert!(c.body.contains("管理画面: https://mdm.example.com/\n"));
        assert!(c.body.contains("expires in about one month"));
        assert!(!c.body.contains("  サーバ:"));
        // Japanese first, then English.
        assert!(c.body.find("ご担当者様").unwrap() < c.body.find("To the administrators").unwrap());
    }

    #[test]
    fn expired_notice_content_and_server_tag() {
        let mut n = notice(ExpiryThreshold::Expired);
        n.server_name = Some("haishin-prod".into());
        n.console_url = None;
        let c = n.content();
        assert_eq!(
            c.subject,
            "【haishin-prod】VPPトークン「本社 iPad」の有効期限が切れました / VPP token \"本社 iPad\" has expired"
        );
        assert!(c.body.contains("次のVPPトークンは有効期限が切れました。\n"));
        assert!(c.body.contains("has expired. Until it is renewed"));
        assert!(c.body.contains("  サーバ:        haishin-prod\n"));
        assert!(c.body.contains("  Server:        haishin-prod\n"));
        assert!(!c.body.contains("管理画面:"));
        assert!(!c.body.contains("Console:"));
    }

    #[test]
    fn to_mail_fills_addresses() {
        let m = notice(ExpiryThreshold::Expired).to_mail("haishin@example.com", vec!["a@example.com".into()]);
        assert_eq!(m.from, "haishin@example.com");
        assert_eq!(m.to, vec!["a@example.com".to_string()]);
        assert!(m.subject.contains("有効期限が切れました"));
        assert!(m.text_body.contains("デモ株式会社"));
    }

    #[test]
    fn one_month_before_is_the_previous_calendar_month_in_jst() {
        let t = ExpiryThreshold::OneMonthBefore;
        assert_eq!(
            t.due_at(datetime!(2026-12-24 00:00 UTC)),
            datetime!(2026-11-24 00:00 UTC)
        );
        // 2027-03-31 00:30 JST → 2027-02-28 00:30 JST.
        assert_eq!(
            t.due_at(datetime!(2027-03-30 15:30 UTC)),
            datetime!(2027-02-27 15:30 UTC)
        );
        // Across the new year, in JST: 2027-01-15 JST → 2026-12-15 JST.
        assert_eq!(
            t.due_at(datetime!(2027-01-14 20:00 UTC)),
            datetime!(2026-12-14 20:00 UTC)
        );
        assert_eq!(
            ExpiryThreshold::Expired.due_at(datetime!(2027-01-14 20:00 UTC)),
            datetime!(2027-01-14 20:00 UTC)
        );
        assert_eq!(t.as_str(), "one_month_before");
        assert_eq!(ExpiryThreshold::Expired.as_str(), "expired");
    }
}
