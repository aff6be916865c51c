//! The simulated Apps and Books service of `haishin sim` and `haishin demo`:
//! one location of 株式会社サンプル whose catalogue looks like a Japanese
//! company's purchases, so the console and CLI show what an admin will see
//! with Apple's real service.

use std::path::Path;

use anyhow::Context;
use apple_sim::vpp::{AppInfo, AssetSpec, LocationHandle, LocationSpec, VppSim, VppSimOptions};

/// 勤怠管理Pro: the app the demo deploys to its fleet. It has 1,000
/// licenses, enough for the default fleet of 500 with room to try more.
pub const DEMO_APP: &str = "1459000101";
/// 翻訳アシスタント: only a handful of licenses; the demo deploys it too,
/// to show a shortage (license-assignment-failed, with the remedy).
pub const SCARCE_APP: &str = "1459000112";

/// 経費精算クラウド for Mac: the Mac app the demo deploys to its Macs.
pub const MAC_APP: &str = "1459000120";

const MB: u64 = 1024 * 1024;

/// Apple's own limits and a page size that makes a large library take
/// several pages, as it does at Apple. Plain-HTTP notification URLs are the
/// simulator's one deviation: the demo and a local `haishin sim` have no
/// HTTPS certificate, and without notifications haishin would wait five
/// minutes before polling.
pub fn sim_options() -> VppSimOptions {
    VppSimOptions::default()
        .page_size(100)
        .max_requests_per_second(15)
        .allow_http_notification_urls(true)
}

/// Starts the simulated service with the demo location.
pub async fn start() -> anyhow::Result<(VppSim, LocationHandle)> {
    let sim = VppSim::start(sim_options())
        .await
        .context("starting the simulated Apps and Books service")?;
    let location = sim.add_location(demo_catalogue());
    Ok((sim, location))
}

/// Writes the location's content token where an admin can upload it.
pub fn write_token_file(location: &LocationHandle, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, location.token_file_contents()).with_context(|| format!("writing {}", path.display()))
}

struct App {
    adam_id: &'static str,
    name: &'static str,
    bundle_id: &'static str,
    artist: &'static str,
    version: &'static str,
    size_mb: u64,
    minimum_os: &'static str,
    families: &'static [&'static str],
    licenses: i64,
}

const PHONE_AND_PAD: &[&str] = &["iphone", "ipad"];
const PHONE: &[&str] = &["iphone"];
const PAD: &[&str] = &["ipad"];

#[rustfmt::skip]
const PAID_APPS: &[App] = &[
    App { adam_id: DEMO_APP, name: "勤怠管理Pro", bundle_id: "jp.co.kintai-pro.ios", artist: "株式会社キンタイプロ", version: "3.4.1", size_mb: 48, minimum_os: "15.0", families: PHONE_AND_PAD, licenses: 1000 },
    App { adam_id: "1459000102", name: "経費精算クラウド", bundle_id: "jp.keihi-cloud.mobile", artist: "経費クラウド株式会社", version: "5.12.0", size_mb: 85, minimum_os: "16.0", families: PHONE_AND_PAD, licenses: 500 },
    App { adam_id: "1459000103", name: "営業日報ノート", bundle_id: "com.eigyo-nippo.app", artist: "株式会社セールスノート", version: "2.8.3", size_mb: 32, minimum_os: "15.0", families: PHONE, licenses: 300 },
    App { adam_id: "1459000104", name: "電子契約サイン", bundle_id: "jp.denshi-keiyaku.sign", artist: "サイン・テクノロジーズ株式会社", version: "4.0.2", size_mb: 78, minimum_os: "16.0", families: PHONE_AND_PAD, licenses: 200 },
    App { adam_id: "1459000105", name: "在庫スキャナー", bundle_id: "jp.zaiko.scanner", artist: "株式会社ロジスティクスラボ", version: "1.9.0", size_mb: 41, minimum_os: "15.0", families: PHONE, licenses: 150 },
    App { adam_id: "1459000106", name: "図面ビューア CAD", bundle_id: "jp.zumen.viewer", artist: "株式会社ケンチクデジタル", version: "7.2.0", size_mb: 236, minimum_os: "16.4", families: PAD, licenses: 100 },
    App { adam_id: "1459000107", name: "社内チャット Biz", bundle_id: "jp.shanai-chat.biz", artist: "ビズコネクト株式会社", version: "10.3.5", size_mb: 120, minimum_os: "15.0", families: PHONE_AND_PAD, licenses: 1000 },
    App { adam_id: "1459000108", name: "Web会議 ミーティング", bundle_id: "jp.webkaigi.meeting", artist: "ビズコネクト株式会社", version: "6.1.0", size_mb: 180, minimum_os: "15.0", families: PHONE_AND_PAD, licenses: 800 },
    App { adam_id: "1459000109", name: "PDF注釈ノート", bundle_id: "com.pdf-chushaku.note", artist: "株式会社ドキュメントワークス", version: "3.0.7", size_mb: 95, minimum_os: "16.0", families: PAD, licenses: 250 },
    App { adam_id: "1459000110", name: "名刺管理 スマート", bundle_id: "jp.meishi.smart", artist: "株式会社カードリンク", version: "8.4.0", size_mb: 60, minimum_os: "15.0", families: PHONE_AND_PAD, licenses: 400 },
    App { adam_id: "1459000111", name: "設備点検チェックリスト", bundle_id: "jp.tenken.checklist", artist: "株式会社メンテナンスワン", version: "2.2.1", size_mb: 27, minimum_os: "15.0", families: PHONE_AND_PAD, licenses: 50 },
    App { adam_id: SCARCE_APP, name: "翻訳アシスタント", bundle_id: "jp.honyaku.assistant", artist: "ランゲージブリッジ株式会社", version: "4.6.0", size_mb: 70, minimum_os: "16.0", families: PHONE_AND_PAD, licenses: 5 },
];

fn metadata(app: &App) -> AppInfo {
    AppInfo {
        name: app.name.to_owned(),
        bundle_id: Some(app.bundle_id.to_owned()),
        artist_name: app.artist.to_owned(),
        version: app.version.to_owned(),
        size_bytes: app.size_mb * MB,
        minimum_os_version: app.minimum_os.to_owned(),
        device_families: app.families.iter().map(|f| (*f).to_owned()).collect(),
        ..AppInfo::app(app.adam_id)
    }
}

fn book(adam_id: &str, name: &str, publisher: &str, licenses: i64) -> AssetSpec {
    let info = AppInfo {
        name: name.to_owned(),
        artist_name: publisher.to_owned(),
        ..AppInfo::book(adam_id)
    };
    AssetSpec::book(adam_id, licenses).metadata(info)
}

fn free_app(adam_id: &str, name: &str, bundle_id: &str, artist: &str) -> AssetSpec {
    let info = AppInfo {
        name: name.to_owned(),
        bundle_id: Some(bundle_id.to_owned()),
        artist_name: artist.to_owned(),
        ..AppInfo::app(adam_id)
    };
    AssetSpec::free_app(adam_id).metadata(info)
}

/// 株式会社サンプル / 東京本社, its token valid for a year: twelve paid
/// business apps (50 to 1,000 licenses, and one with five), two books,
/// two free apps, a custom (B2B) app made for the company and a Mac app.
pub fn demo_catalogue() -> LocationSpec {
    let mut spec = LocationSpec::new("株式会社サンプル", "東京本社")
        .country("JP")
        .expires_at(time::OffsetDateTime::now_utc() + time::Duration::days(365));
    for app in PAID_APPS {
        spec = spec.asset(AssetSpec::app(app.adam_id, app.licenses).metadata(metadata(app)));
    }
    let custom = App {
        adam_id: "1700000301",
        name: "サンプル受発注(社内専用)",
        bundle_id: "jp.co.sample.juhacchu",
        artist: "株式会社サンプル",
        version: "1.3.0",
        size_mb: 22,
        minimum_os: "16.0",
        families: PHONE_AND_PAD,
        licenses: 120,
    };
    let mac = AppInfo {
        name: "経費精算クラウド for Mac".to_owned(),
        bundle_id: Some("jp.keihi-cloud.mac".to_owned()),
        artist_name: "経費クラウド株式会社".to_owned(),
        version: "5.12.0".to_owned(),
        size_bytes: 64 * MB,
        ..AppInfo::mac_app(MAC_APP)
    };
    spec.asset(AssetSpec::app(custom.adam_id, custom.licenses).metadata(metadata(&custom).b2b()))
        .asset(
            AssetSpec::app(MAC_APP, 100)
                .platforms(vec![apple_vpp::Platform::MacOs])
                .metadata(mac),
        )
        .asset(book(
            "1600000201",
            "新入社員のための情報セキュリティ入門",
            "サンプル出版",
            100,
        ))
        .asset(book("1600000202", "製品カタログ 2025年度版", "株式会社サンプル", 300))
        .asset(free_app(
            "1500000401",
            "社内ポータル",
            "jp.co.sample.portal",
            "株式会社サンプル",
        ))
        .asset(free_app(
            "1500000402",
            "乗換案内ナビ",
            "jp.norikae.navi",
            "株式会社トランジットナビ",
        ))
}

#[cfg(test)]
mod tests {
    use apple_sim::vpp::Licenses;

    use super::*;

    #[test]
    fn catalogue_has_what_the_demo_and_readme_promise() {
        let spec = demo_catalogue();
        let limited = |a: &&AssetSpec| matches!(a.licenses, Licenses::Count(_));
        let paid: Vec<_> = spec
            .assets
            .iter()
            .filter(|a| a.metadata.kind == "iosSoftware" && !a.metadata.b2b_custom)
            .filter(limited)
            .collect();
        assert_eq!(paid.len(), 12);
        assert!(paid.iter().any(|a| a.metadata.size_bytes > 200 * MB));
        assert!(
            paid.iter()
                .any(|a| a.adam_id == SCARCE_APP && a.licenses == Licenses::Count(5))
        );
        let books = spec.assets.iter().filter(|a| a.metadata.kind == "ebook").count();
        let free = spec.assets.iter().filter(|a| a.licenses == Licenses::Unlimited).count();
        let custom = spec.assets.iter().filter(|a| a.metadata.b2b_custom).count();
        let mac = spec.assets.iter().filter(|a| a.metadata.kind == "macSoftware").count();
        assert_eq!((books, free, custom, mac), (2, 2, 1, 1));
        let ids: std::collections::BTreeSet<_> = spec.assets.iter().map(|a| &a.adam_id).collect();
        assert_eq!(ids.len(), spec.assets.len(), "adamIds are unique");
    }
}
