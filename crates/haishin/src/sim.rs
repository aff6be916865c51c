//! `haishin sim` and the demo's simulated fleet: Apple's APNs and a fleet of
//! iPhones and iPads on loopback (crate `apple-sim`), enrolling in a haishin
//! server through its real enrollment profile and protocol.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use apple_sim::{ApnsSim, Behaviour, Fleet, HttpProfileSource, SimEnv};
use clap::Args;

#[derive(Args)]
pub struct SimArgs {
    /// The haishin server the devices enroll in (its public URL).
    #[arg(long, env = "HAISHIN_URL")]
    pub server: String,
    /// An API token of an admin allowed to download enrollment profiles.
    #[arg(long, env = "HAISHIN_TOKEN")]
    pub token: String,
    /// The group the devices enroll into.
    #[arg(long)]
    pub group: i64,
    #[arg(long, default_value_t = 100)]
    pub devices: usize,
    /// `realistic` (locked, offline, App Store disabled, shared iPads, ...)
    /// or `ipad` (every device a supervised iPad that answers at once).
    #[arg(long, default_value = "realistic")]
    pub mix: String,
    /// Where to write the simulated APNs' CA certificate, for the server's
    /// `apns_ca_file`.
    #[arg(long, default_value = "haishin-sim-apns-ca.pem")]
    pub apns_ca_out: PathBuf,
}

/// A running APNs simulator with its CA written where a server can read it.
pub struct SimulatedApple {
    pub apns: ApnsSim,
    pub ca_file: PathBuf,
}

impl SimulatedApple {
    pub async fn start(ca_file: &Path) -> anyhow::Result<Self> {
        let apns = ApnsSim::start_tls().await.context("starting the APNs simulator")?;
        let pem = apns.root_ca_pem().context("the TLS simulator has a CA")?;
        std::fs::write(ca_file, pem).with_context(|| format!("writing {}", ca_file.display()))?;
        Ok(Self {
            apns,
            ca_file: ca_file.to_path_buf(),
        })
    }
}

fn behaviour_fn(mix: &str) -> anyhow::Result<fn(usize) -> Behaviour> {
    match mix {
        "realistic" => Ok(Behaviour::realistic),
        "ipad" => Ok(|_| Behaviour::ipad()),
        other => anyhow::bail!("--mix must be realistic or ipad, not {other:?}"),
    }
}

/// Enrolls `count` simulated devices, printing progress, and returns the
/// fleet (which answers pushes for as long as it is kept).
pub async fn enroll_fleet(
    apple: &SimulatedApple,
    server: &str,
    token: &str,
    group: i64,
    count: usize,
    mix: &str,
) -> anyhow::Result<Fleet> {
    let behaviour = behaviour_fn(mix)?;
    let env = SimEnv::builder(HttpProfileSource::for_group(server, group).with_bearer(token))
        .apns(apple.apns.clone())
        .build()
        .context("setting up the simulated devices")?;
    let started = Instant::now();
    let enrolling = tokio::spawn(Fleet::builder(env).devices(count).behaviour(behaviour).enroll());
    // The fleet enrolls in the background; the count of devices the server
    // knows tells how far it is.
    while !enrolling.is_finished() {
        tokio::time::sleep(Duration::from_millis(500)).await;
        eprint!("\r  enrolling simulated devices... {:.0?}", started.elapsed());
    }
    let fleet = enrolling.await.context("enrolling the fleet")?;
    eprintln!(
        "\r  enrolled {} of {count} simulated devices in {:.1?}{}",
        fleet.enrolled().len(),
        fleet.enroll_time(),
        if fleet.failures().is_empty() {
            String::new()
        } else {
            format!(" ({} failed: {})", fleet.failures().len(), fleet.failures()[0].1)
        }
    );
    Ok(fleet)
}

/// `haishin sim`: runs until Ctrl-C.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let apple = SimulatedApple::start(&args.apns_ca_out).await?;
    println!("simulated APNs: {}", apple.apns.base_url());
    println!("Start (or restart) haishin with:");
    println!("  HAISHIN_APNS_URL={}", apple.apns.base_url());
    println!("  HAISHIN_APNS_CA_FILE={}", apple.ca_file.display());
    let health = format!("{}/healthz", args.server.trim_end_matches('/'));
    let http = reqwest::Client::new();
    eprintln!("waiting for {health} ...");
    while !http.get(&health).send().await.is_ok_and(|r| r.status().is_success()) {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let fleet = enroll_fleet(&apple, &args.server, &args.token, args.group, args.devices, &args.mix).await?;
    println!("{} devices answer pushes; Ctrl-C to stop.", fleet.enrolled().len());
    tokio::signal::ctrl_c().await?;
    drop(fleet);
    apple.apns.stop();
    Ok(())
}

/// A push certificate shaped like Apple's (subject UID = a fresh
/// `com.apple.mgmt.External.<uuid>` topic), self-signed: the simulated APNs
/// accepts it, the real one never would. For the demo only.
pub fn simulated_push_certificate() -> anyhow::Result<(String, String)> {
    use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, KeyPair};
    let topic = format!("com.apple.mgmt.External.{}", uuid::Uuid::new_v4());
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
        DnValue::Utf8String(topic.clone()),
    );
    name.push(DnType::CommonName, format!("APSP:{}", &topic[topic.len() - 36..]));
    params.distinguished_name = name;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(365);
    Ok((params.self_signed(&key)?.pem(), key.serialize_pem()))
}
