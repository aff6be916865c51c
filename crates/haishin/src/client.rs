//! `haishin groups|users|devices|audit …`: the REST API from the shell, for
//! scripts. Reads the server from `HAISHIN_URL` and the token from
//! `HAISHIN_TOKEN`; prints JSON (or the CSV file for exports).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

#[derive(Args)]
pub struct Connection {
    /// Server URL.
    #[arg(long, env = "HAISHIN_URL", default_value = "http://127.0.0.1:8080", global = true)]
    pub url: String,
    /// API token (create one with `haishin admin create-token`).
    #[arg(long, env = "HAISHIN_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Message language: ja or en.
    #[arg(long, env = "HAISHIN_LANG", default_value = "ja", global = true)]
    pub lang: String,
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// The group tree.
    Groups {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        action: GroupAction,
    },
    /// Users (device owners).
    Users {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        action: OrgAction,
    },
    /// Devices.
    Devices {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        action: OrgAction,
    },
    /// MDM: push certificate, enrollment profiles, device commands, wipe, jobs.
    Mdm {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        action: crate::client_mdm::MdmAction,
    },
    /// Apps and Books (VPP): tokens, sync, assets, licenses.
    Vpp {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        action: crate::client_vpp::VppAction,
    },
    /// Deployments (配信): preview, create and follow, cancel, resend;
    /// auto-install and portal rules, automatic updates, portal links.
    Deploy {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        action: crate::client_deploy::DeployAction,
    },
    /// The audit log, newest first.
    Audit {
        #[command(flatten)]
        connection: Connection,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Subcommand)]
pub enum GroupAction {
    List,
    Create {
        name: String,
        #[arg(long)]
        parent: Option<i64>,
    },
    Rename {
        id: i64,
        name: String,
    },
    Move {
        id: i64,
        #[arg(long)]
        parent: i64,
    },
    Delete {
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum OrgAction {
    /// Search (keyword in one field or all).
    Search {
        #[arg(long)]
        q: Option<String>,
        /// A field such as serial_number, device_number, owner_name (devices only).
        #[arg(long)]
        field: Option<String>,
        #[arg(long)]
        group: Option<i64>,
        /// サブグループを含める
        #[arg(long)]
        include_subgroups: bool,
        #[arg(long, default_value_t = 1)]
        page: u32,
        #[arg(long, default_value_t = 50)]
        per_page: u32,
    },
    /// Import a CSV file (all or nothing).
    Import {
        file: PathBuf,
        /// auto, utf-8 or shift_jis.
        #[arg(long, default_value = "auto")]
        encoding: String,
    },
    /// Export as CSV to a file, or to standard output.
    Export {
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// utf-8 or shift_jis.
        #[arg(long, default_value = "utf-8")]
        encoding: String,
        #[arg(long)]
        group: Option<i64>,
        #[arg(long)]
        include_subgroups: bool,
    },
    Get {
        id: i64,
    },
    Delete {
        id: i64,
    },
}

pub(crate) struct Api {
    http: reqwest::Client,
    connection: Connection,
}

impl Api {
    /// The server's address, for links to hand out.
    pub(crate) fn base_url(&self) -> &str {
        self.connection.url.trim_end_matches('/')
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> anyhow::Result<RequestBuilder> {
        let token = self
            .connection
            .token
            .as_deref()
            .context("set HAISHIN_TOKEN or --token")?;
        let url = format!("{}/api/v1{path}", self.connection.url.trim_end_matches('/'));
        Ok(self
            .http
            .request(method, url)
            .bearer_auth(token)
            .header("Accept-Language", &self.connection.lang))
    }

    pub(crate) async fn send(&self, request: RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let response = request.send().await.context("calling the haishin server")?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let mut message = format!("{status}: {}", body["message"].as_str().unwrap_or("(no message)"));
        for error in body["errors"].as_array().into_iter().flatten() {
            message.push_str(&format!(
                "\n  line {}: {}",
                error["line"],
                error["message"].as_str().unwrap_or("")
            ));
        }
        bail!(message)
    }

    pub(crate) async fn json(&self, request: RequestBuilder) -> anyhow::Result<()> {
        let response = self.send(request).await?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(());
        }
        let value: Value = response.json().await?;
        let mut text = serde_json::to_string_pretty(&value)?;
        text.push('\n');
        write_stdout(text.as_bytes())
    }
}

/// A text file the user named, with its path in the error.
pub(crate) fn read_text(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

pub async fn run(command: ClientCommand) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    match command {
        ClientCommand::Groups { connection, action } => {
            let api = Api { http, connection };
            let request = match action {
                GroupAction::List => api.request(Method::GET, "/groups")?,
                GroupAction::Create { name, parent } => api
                    .request(Method::POST, "/groups")?
                    .json(&json!({ "name": name, "parent_id": parent })),
                GroupAction::Rename { id, name } => api
                    .request(Method::PATCH, &format!("/groups/{id}"))?
                    .json(&json!({ "name": name })),
                GroupAction::Move { id, parent } => api
                    .request(Method::PATCH, &format!("/groups/{id}"))?
                    .json(&json!({ "parent_id": parent })),
                GroupAction::Delete { id } => api.request(Method::DELETE, &format!("/groups/{id}"))?,
            };
            api.json(request).await
        }
        ClientCommand::Users { connection, action } => org(Api { http, connection }, "users", action).await,
        ClientCommand::Devices { connection, action } => org(Api { http, connection }, "devices", action).await,
        ClientCommand::Mdm { connection, action } => crate::client_mdm::run(&Api { http, connection }, action).await,
        ClientCommand::Vpp { connection, action } => crate::client_vpp::run(&Api { http, connection }, action).await,
        ClientCommand::Deploy { connection, action } => {
            crate::client_deploy::run(&Api { http, connection }, action).await
        }
        ClientCommand::Audit { connection, limit } => {
            let api = Api { http, connection };
            let request = api.request(Method::GET, "/audit")?.query(&[("limit", limit)]);
            api.json(request).await
        }
    }
}

async fn org(api: Api, resource: &str, action: OrgAction) -> anyhow::Result<()> {
    match action {
        OrgAction::Search {
            q,
            field,
            group,
            include_subgroups,
            page,
            per_page,
        } => {
            let mut query: Vec<(&str, String)> = vec![("page", page.to_string()), ("per_page", per_page.to_string())];
            query.extend(q.map(|v| ("q", v)));
            query.extend(field.map(|v| ("field", v)));
            query.extend(group.map(|v| ("group_id", v.to_string())));
            if include_subgroups {
                query.push(("include_subgroups", "true".into()));
            }
            let request = api.request(Method::GET, &format!("/{resource}"))?.query(&query);
            api.json(request).await
        }
        OrgAction::Import { file, encoding } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            eprintln!("uploading {} ({} bytes)…", file.display(), bytes.len());
            let request = api
                .request(Method::POST, &format!("/{resource}/import"))?
                .query(&[("encoding", encoding)])
                .header("Content-Type", "text/csv")
                .body(bytes);
            api.json(request).await
        }
        OrgAction::Export {
            output,
            encoding,
            group,
            include_subgroups,
        } => {
            let mut query = vec![
                ("encoding", encoding),
                ("include_subgroups", include_subgroups.to_string()),
            ];
            query.extend(group.map(|g| ("group_id", g.to_string())));
            let request = api.request(Method::GET, &format!("/{resource}/export"))?.query(&query);
            let response = api.send(request).await?;
            let rows = response
                .headers()
                .get("x-row-count")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?")
                .to_owned();
            let bytes = response.bytes().await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("{rows} rows written to {}", path.display());
                }
                None => write_stdout(&bytes)?,
            }
            Ok(())
        }
        OrgAction::Get { id } => api.json(api.request(Method::GET, &format!("/{resource}/{id}"))?).await,
        OrgAction::Delete { id } => {
            api.json(api.request(Method::DELETE, &format!("/{resource}/{id}"))?)
                .await
        }
    }
}

/// Writes command output. A closed pipe (`haishin devices search | head`)
/// ends the output quietly, as shell tools do, instead of panicking.
pub(crate) fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
