//! Turning one command body from the server into the report iOS would send back.

use std::time::Instant;

use apple_mdm::enrollment::AccessRights;
use apple_mdm::error_chain::domain;
use apple_mdm::{
    Channel, ChannelIdentity, Command, CommandReport, CommandRequest, CommandStatus, CommandUuid, Dictionary,
    ErrorChainItem, Value,
};

use super::behaviour::Behaviour;
use super::hardware::Hardware;
use super::state::{CommandRecord, DeviceState};
use super::{apps, info, media};
use crate::templates;

/// What the device knows while it runs a command.
pub(crate) struct Context<'a> {
    pub(crate) behaviour: &'a Behaviour,
    pub(crate) hardware: &'a Hardware,
    pub(crate) rights: AccessRights,
    pub(crate) channel: Channel,
    pub(crate) now: Instant,
}

/// A command's outcome before it is wrapped in a report.
pub(crate) enum Reply {
    Acknowledged(Dictionary),
    Error {
        chain: Vec<ErrorChainItem>,
        payload: Dictionary,
    },
    NotNow,
    FormatError,
}

/// What the device must do after the report is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    None,
    Erase,
    LogOutUser,
}

pub(crate) struct Executed {
    pub(crate) report: CommandReport,
    pub(crate) effect: Effect,
}

/// Runs one command body. `None` when the body is not even a plist with a `CommandUUID`:
/// there is nothing the device could answer to.
pub(crate) fn execute(
    state: &mut DeviceState,
    ctx: &Context<'_>,
    identity: ChannelIdentity,
    body: &[u8],
) -> Option<Executed> {
    state.advance(ctx.now);
    let (uuid, request_type, reply, effect) = match Command::from_xml(body) {
        Ok(command) => {
            let request_type = command.request_type().to_owned();
            let (reply, effect) = run(state, ctx, &command);
            (command.command_uuid, request_type, reply, effect)
        }
        // §5.2: a plist the device cannot read as a command is a CommandFormatError.
        Err(_) => (raw_command_uuid(body)?, String::new(), Reply::FormatError, Effect::None),
    };
    let (status, payload, chain) = match reply {
        Reply::Acknowledged(payload) => (CommandStatus::Acknowledged, payload, Vec::new()),
        Reply::Error { chain, payload } => (CommandStatus::Error, payload, chain),
        Reply::NotNow => (CommandStatus::NotNow, Dictionary::new(), Vec::new()),
        Reply::FormatError => (CommandStatus::CommandFormatError, Dictionary::new(), Vec::new()),
    };
    state.log_command(CommandRecord {
        command_uuid: uuid.as_str().to_owned(),
        request_type,
        status,
        error: chain.first().map(|item| format!("{} {}", item.domain, item.code)),
        user_channel: ctx.channel == Channel::User,
    });
    let mut report = CommandReport::for_command(identity, uuid, status).with_error_chain(chain);
    report.payload = payload;
    Some(Executed { report, effect })
}

fn raw_command_uuid(body: &[u8]) -> Option<CommandUuid> {
    let value = Value::from_reader_xml(body).ok()?;
    let uuid = value.as_dictionary()?.get("CommandUUID")?.as_string()?;
    Some(CommandUuid::from(uuid))
}

/// Commands iOS answers even when locked (§5.4 "never NotNow").
fn never_not_now(request: &CommandRequest) -> bool {
    matches!(
        request,
        CommandRequest::DeviceInformation(_)
            | CommandRequest::InstalledApplicationList(_)
            | CommandRequest::EraseDevice(_)
    )
}

/// App, book and user-management commands exist only on the device channel (§9.2).
fn device_channel_only(request: &CommandRequest) -> bool {
    !matches!(request, CommandRequest::DeviceInformation(_))
}

fn run(state: &mut DeviceState, ctx: &Context<'_>, command: &Command) -> (Reply, Effect) {
    let request = &command.request;
    let b = ctx.behaviour;
    let modelled = match request {
        CommandRequest::UserList(_) | CommandRequest::LogOutUser(_) => b.shared_ipad,
        CommandRequest::DeviceInformation(_)
        | CommandRequest::InstalledApplicationList(_)
        | CommandRequest::ManagedApplicationList(_)
        | CommandRequest::InstallApplication(_)
        | CommandRequest::RemoveApplication(_)
        | CommandRequest::InstallMedia(_)
        | CommandRequest::RemoveMedia(_)
        | CommandRequest::ManagedMediaList(_)
        | CommandRequest::EraseDevice(_) => true,
        _ => false,
    };
    // §10 step 1 and §8.2 12021: a RequestType this OS or channel does not support.
    if !modelled || (ctx.channel == Channel::User && device_channel_only(request)) {
        let item = templates::get().invalid_request_type(command.request_type());
        return (error(item), Effect::None);
    }
    // §10 step 3 / §5.4: the device is locked; the command is not kept.
    if b.blocks_deferrable_commands() && !never_not_now(request) {
        return (Reply::NotNow, Effect::None);
    }
    if command.request_requires_network_tether == Some(true) {
        return (
            error(apps::mcmdm(12081, "The device is not network tethered.")),
            Effect::None,
        );
    }
    match request {
        CommandRequest::DeviceInformation(r) => (info::device_information(ctx, r), Effect::None),
        CommandRequest::InstalledApplicationList(r) => (apps::installed_list(state, r), Effect::None),
        CommandRequest::ManagedApplicationList(r) => (apps::managed_list(state, r), Effect::None),
        CommandRequest::InstallApplication(r) => (apps::install(state, ctx, r), Effect::None),
        CommandRequest::RemoveApplication(r) => (apps::remove(state, r), Effect::None),
        CommandRequest::InstallMedia(r) => (media::install(state, ctx, r), Effect::None),
        CommandRequest::RemoveMedia(r) => (media::remove(state, r), Effect::None),
        CommandRequest::ManagedMediaList(_) => (media::list(state), Effect::None),
        CommandRequest::EraseDevice(_) => (Reply::Acknowledged(Dictionary::new()), Effect::Erase),
        CommandRequest::UserList(_) => (info::user_list(ctx), Effect::None),
        CommandRequest::LogOutUser(_) if b.logged_in_user.is_some() => {
            (Reply::Acknowledged(Dictionary::new()), Effect::LogOutUser)
        }
        CommandRequest::LogOutUser(_) => (
            error(ErrorChainItem::new(domain::DEVICE_MANAGEMENT, 2901).with_description("No user is logged in.")),
            Effect::None,
        ),
        _ => (
            error(templates::get().invalid_request_type(command.request_type())),
            Effect::None,
        ),
    }
}

fn error(item: ErrorChainItem) -> Reply {
    Reply::Error {
        chain: vec![item],
        payload: Dictionary::new(),
    }
}
