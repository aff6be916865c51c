//! `haishin sim` and the demo's simulated fleet: Apple's APNs, Apps and
//! Books service and a fleet of iPhones and iPads on loopback (crate
//! `apple-sim`), enrolling in a haishin server through its real enrollment
//! profile and protocol.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use apple_sim::vpp::LocationHandle;
use apple_sim::{ApnsSim, Behaviour, Fleet, HttpProfileSource, SimEnv};
use clap::Args;

#[derive(Args)]
pub struct SimArgs {
    /// The haishin server the devices enroll in (its public URL). Needed
    /// unless `--devices 0`.
    #[arg(long, env = "HAISHIN_URL")]
    pub server: Option<String>,
    /// An API token of an admin allowed to download enrollment profiles.
    /// Needed unless `--devices 0`.
    #[arg(long, env = "HAISHIN_TOKEN")]
    pub token: Option<String>,
    /// The group the devices enroll into. Needed unless `--devices 0`.
    #[arg(long)]
    pub group: Option<i64>,
    /// How many simulated devices enroll; 0 runs only the simulated Apple
    /// services (APNs, Apps and Books).
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
    /// Where to write the content token (.vpptoken) of the simulated Apps
    /// and Books location, to register with `haishin vpp register`.
    #[arg(long, default_value = "haishin-sim.vpptoken")]
    pub vpp_token_out: PathBuf,
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

/// The `--mix` of `haishin sim`.
pub fn mix(name: &str) -> anyhow::Result<fn(usize) -> Behaviour> {
    match name {
        "realistic" => Ok(Behaviour::realistic),
        "ipad" => Ok(|_| Behaviour::ipad()),
        other => anyhow::bail!("--mix must be realistic or ipad, not {other:?}"),
    }
}

/// Device `index` behaves as `base(index)`, installs only what the
/// simulated Apps and Books `location` licensed to its serial number (as a
/// real device does with device-based licenses), finds the location's apps
/// in its App Store as the location lists them (bundle id, version), and
/// installs quickly.
pub fn licensed_behaviour(
    base: fn(usize) -> Behaviour,
    location: &LocationHandle,
) -> impl Fn(usize) -> Behaviour + Send + Sync + 'static {
    let licenses = location.license_policy();
    let store = location.store_catalogue();
    move |index| {
        base(index)
            .with_licenses(licenses.clone())
            .with_store(store.clone())
            .with_install_timing(Duration::from_millis(100), Duration::from_millis(300))
    }
}

/// Enrolls `count` simulated devices, each behaving as `behaviour(index)`
/// says, printing progress, and returns the fleet (which answers pushes for
/// as long as it is kept).
pub async fn enroll_fleet(
    apple: &SimulatedApple,
    server: &str,
    token: &str,
    group: i64,
    count: usize,
    behaviour: impl Fn(usize) -> Behaviour + Send + Sync + 'static,
) -> anyhow::Result<Fleet> {
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
    // Checked first: a missing argument should not cost a started simulator.
    let base = mix(&args.mix)?;
    let fleet_target = if args.devices > 0 {
        let missing = |what: &str| anyhow::anyhow!("--{what} is needed to enroll devices (or pass --devices 0)");
        Some((
            args.server.clone().ok_or_else(|| missing("server"))?,
            args.token.clone().ok_or_else(|| missing("token"))?,
            args.group.ok_or_else(|| missing("group"))?,
        ))
    } else {
        None
    };
    let apple = SimulatedApple::start(&args.apns_ca_out).await?;
    let (vpp, location) = crate::sim_vpp::start().await?;
    let behaviour = licensed_behaviour(base, &location);
    crate::sim_vpp::write_token_file(&location, &args.vpp_token_out)?;
    println!("simulated APNs:            {}", apple.apns.base_url());
    println!("simulated Apps and Books:  {}", vpp.base_url());
    println!("Start (or restart) haishin with:");
    println!("  HAISHIN_APNS_URL={}", apple.apns.base_url());
    println!("  HAISHIN_APNS_CA_FILE={}", apple.ca_file.display());
    println!("  HAISHIN_VPP_URL={}", vpp.base_url());
    println!("  HAISHIN_VPP_METADATA_URL={}", vpp.metadata_lookup_url());
    println!("  HAISHIN_VPP_ALLOW_HTTP_NOTIFICATIONS=true");
    println!(
        "Content token of 株式会社サンプル / 東京本社 ({} apps and books) written to {}; register it with:",
        crate::sim_vpp::demo_catalogue().assets.len(),
        args.vpp_token_out.display()
    );
    println!(
        "  haishin vpp register --group {} {}",
        args.group.map_or("G".to_owned(), |g| g.to_string()),
        args.vpp_token_out.display()
    );
    println!(
        "(the simulator forgets everything when it stops: restart haishin with the new URLs and register the new token)"
    );
    let fleet = match fleet_target {
        Some((server, token, group)) => {
            let health = format!("{}/healthz", server.trim_end_matches('/'));
            let http = reqwest::Client::new();
            eprintln!("waiting for {health} ...");
            while !http.get(&health).send().await.is_ok_and(|r| r.status().is_success()) {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let fleet = enroll_fleet(&apple, &server, &token, group, args.devices, behaviour).await?;
            println!("{} devices answer pushes; Ctrl-C to stop.", fleet.enrolled().len());
            Some(fleet)
        }
        None => {
            println!("No devices (--devices 0); Ctrl-C to stop.");
            None
        }
    };
    tokio::signal::ctrl_c().await?;
    drop(fleet);
    vpp.shutdown();
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
