use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use haishin::client::ClientCommand;
use haishin::config::Config;
use haishin::{bench_mdm, client, demo, domain_error, server};
use haishin_domain::auth::{Actor, Role};

/// haishin (配信): an Apple MDM server for App Store apps and books (VPP).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// TOML configuration file (environment variables HAISHIN_* override it).
    #[arg(long, short, global = true, env = "HAISHIN_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Bootstrap accounts, admins and API tokens (server operators).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Run the server on SQLite with a demo account and organisation.
    Demo(demo::DemoArgs),
    /// Measure performance against a fresh database and print figures.
    #[command(subcommand)]
    Bench(bench_mdm::BenchCommands),
    /// Run the Apple simulator: APNs plus a fleet of simulated iPhones and
    /// iPads that enroll in a running server.
    Sim(haishin::sim::SimArgs),
    /// Call the REST API of a running server (HAISHIN_URL, HAISHIN_TOKEN).
    #[command(flatten)]
    Client(ClientCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account (tenant) with its top group.
    CreateAccount { name: String },
    /// List accounts.
    ListAccounts,
    /// Create an admin in an account; prints a generated password unless
    /// --password-stdin is given.
    CreateAdmin {
        #[arg(long)]
        account: i64,
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: Option<String>,
        /// account_admin, operator or read_only.
        #[arg(long, default_value = "account_admin")]
        role: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create an API token for an admin and print it (shown once).
    CreateToken {
        #[arg(long)]
        login: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Client(command) = cli.command {
        return client::run(command).await;
    }
    let config = Config::load(cli.config.as_deref())?;
    server::init_logging(&config);
    match cli.command {
        Command::Serve => {
            let running = server::start(&config).await?;
            running.wait().await
        }
        Command::Migrate => {
            server::open_store(&config).await?;
            println!("migrations applied to {}", server::redact_url(&config.database_url()));
            Ok(())
        }
        Command::Admin(command) => admin(&config, command).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Sim(args) => haishin::sim::run(args).await,
        Command::Bench(command) => bench_mdm::run(command).await,
        Command::Client(_) => unreachable!("handled above"),
    }
}

async fn admin(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let store = server::open_store(config).await?;
    // Bootstrapping a data directory creates its master key too, before any
    // secret can be stored with it.
    let master_key = std::sync::Arc::new(server::load_master_key(config)?);
    let services = server::services(store, master_key, config)?;
    match command {
        AdminCommand::CreateAccount { name } => {
            let (account, root) = services.create_account(&name).await.map_err(domain_error)?;
            println!(
                "account {} \"{}\" created (top group {})",
                account.id, account.name, root.id
            );
        }
        AdminCommand::ListAccounts => {
            for account in services.store.list_accounts().await.map_err(domain_error)? {
                println!("{}\t{}", account.id, account.name);
            }
        }
        AdminCommand::CreateAdmin {
            account,
            login,
            name,
            role,
            password_stdin,
        } => {
            let account = services
                .store
                .get_account(haishin_domain::ids::AccountId(account))
                .await
                .map_err(domain_error)?
                .context("no such account")?;
            let role = Role::parse(&role).map_err(domain_error)?;
            let (password, generated) = if password_stdin {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                (text.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (haishin_secrets::random_token("").expose()[..20].to_owned(), true)
            };
            let actor = Actor::system(account.id);
            let admin = services
                .create_admin(&actor, &login, name.as_deref().unwrap_or(&login), role, &password)
                .await
                .map_err(domain_error)?;
            println!(
                "admin {} ({}) created in account {}",
                admin.login,
                admin.role.as_str(),
                account.id
            );
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::CreateToken { login, name } => {
            let (admin, _) = services
                .store
                .admin_credentials(&login)
                .await
                .map_err(domain_error)?
                .context("no such admin")?;
            let actor = Actor::system(admin.account_id);
            let created = services
                .create_api_token(&actor, &name, Some(admin.id))
                .await
                .map_err(domain_error)?;
            println!("{}", created.secret.expose());
        }
    }
    Ok(())
}
