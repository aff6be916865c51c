//! The haishin binary's library half: configuration, the server runner, the
//! demo, benchmarks and the CLI client. `main.rs` only parses arguments.

pub mod background;
pub mod bench;
pub mod bench_console;
pub mod bench_deploy;
pub mod bench_mdm;
pub mod client;
pub mod client_deploy;
pub mod client_mdm;
pub mod client_vpp;
pub mod config;
pub mod demo;
mod demo_story;
pub mod sample;
pub mod server;
pub mod sim;
pub mod sim_vpp;
pub mod tls;

/// A domain error for the terminal: the English message, its code, and the
/// first line-numbered problems of a refused CSV.
pub fn domain_error(e: haishin_domain::DomainError) -> anyhow::Error {
    use haishin_domain::Lang;
    let mut text = format!("{} ({})", e.message(Lang::En), e.code());
    for line in e.line_errors(Lang::En).iter().take(10) {
        text.push_str(&format!("\n  line {}: {}", line.line, line.message));
    }
    anyhow::anyhow!(text)
}
