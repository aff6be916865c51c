//! Book commands: InstallMedia, RemoveMedia, ManagedMediaList (reference §7.7). No capture
//! of these replies exists (fixtures README), so their shapes follow the schema.

use std::collections::VecDeque;
use std::time::Duration;

use apple_mdm::command::{InstallMedia, MediaSource, MediaTarget, MediaType, RemoveMedia};
use apple_mdm::report::{InstallMediaResult, ManagedBook, ManagedMediaListResult, MediaRejectionReason, MediaState};
use apple_mdm::{Dictionary, ErrorChainItem, PlistRecord};

use super::apps::mcmdm;
use super::behaviour::LicenseQuery;
use super::commands::{Context, Reply};
use super::state::{BookRecord, DeviceState};

pub(crate) fn install(state: &mut DeviceState, ctx: &Context<'_>, request: &InstallMedia) -> Reply {
    let b = ctx.behaviour;
    let echo = InstallMediaResult {
        itunes_store_id: match request.source {
            MediaSource::ITunesStoreId(id) => Some(id),
            MediaSource::Url(_) => None,
        },
        media_url: match &request.source {
            MediaSource::Url(url) => Some(url.clone()),
            MediaSource::ITunesStoreId(_) => None,
        },
        persistent_id: request.persistent_id.clone(),
        media_type: Some(MediaType::Book),
        ..InstallMediaResult::default()
    };
    let refuse = |item: ErrorChainItem, reason: MediaRejectionReason| Reply::Error {
        chain: vec![item],
        payload: InstallMediaResult {
            rejection_reason: Some(reason),
            ..echo.clone()
        }
        .to_dictionary(),
    };
    if request.media_type != MediaType::Book {
        return refuse(
            mcmdm(12044, "The media type is invalid."),
            MediaRejectionReason::WrongMediaType,
        );
    }
    let finish = |store: bool| match (b.storage_full, store) {
        (true, _) => MediaState::Failed,
        // Book Store books report Installed, enterprise books Managed (§7.7).
        (false, true) => MediaState::Installed,
        (false, false) => MediaState::Managed,
    };
    let (store_id, url, steps) = match &request.source {
        MediaSource::ITunesStoreId(id) => {
            if b.app_store_disabled {
                return refuse(
                    mcmdm(12031, "The App Store is disabled."),
                    MediaRejectionReason::AppStoreDisabled,
                );
            }
            // Books are licensed to the Apple Account only; with none signed in the device
            // asks the user to sign in and waits (§7.7: prompted only if sign-in is needed).
            if !b.signed_in_to_app_store {
                (Some(*id), None, vec![(Duration::ZERO, MediaState::PromptingForLogin)])
            } else {
                let hash = ctx.hardware.itunes_store_account_hash.as_str();
                let query = LicenseQuery {
                    serial_number: &ctx.hardware.serial_number,
                    apple_account_hash: Some(hash),
                    itunes_store_id: *id,
                    device_based: false,
                };
                if !b.licenses.allows(&query) {
                    return refuse(
                        mcmdm(12047, "Cannot find VPP assignment."),
                        MediaRejectionReason::PurchaseNotFound,
                    );
                }
                (Some(*id), None, install_steps(b.install_duration, finish(true)))
            }
        }
        MediaSource::Url(url) => {
            // §9.2: no enterprise books on Shared iPad. No chain is documented for it;
            // 12043 (media download failure) is the closest documented code.
            if b.shared_ipad {
                return refuse(
                    mcmdm(12043, "Enterprise books are not supported on Shared iPad."),
                    MediaRejectionReason::EnterpriseBooksNotSupportedInMultiUser,
                );
            }
            if !url.starts_with("https://") {
                return refuse(
                    mcmdm(12030, "The URL is invalid."),
                    MediaRejectionReason::DownloadInvalid,
                );
            }
            (
                None,
                Some(url.clone()),
                install_steps(b.install_duration, finish(false)),
            )
        }
    };
    // Installing again with the same id replaces the book (§7.7).
    state.books.retain(|book| {
        !((store_id.is_some() && book.store_id == store_id)
            || (request.persistent_id.is_some() && book.persistent_id == request.persistent_id))
    });
    let mut record = BookRecord {
        store_id,
        url,
        persistent_id: request.persistent_id.clone(),
        kind: request.kind.clone().or_else(|| Some("epub".to_owned())),
        version: request.version.clone().or_else(|| Some("1.0".to_owned())),
        author: request.author.clone().or_else(|| Some("Sim Author".to_owned())),
        title: request
            .title
            .clone()
            .or_else(|| store_id.map(|id| format!("Sim Book {id}"))),
        state: MediaState::Queued,
        timeline: VecDeque::new(),
    };
    let mut at = ctx.now;
    for (after, next) in steps {
        at += after;
        record.timeline.push_back((at, next));
    }
    state.books.push(record);
    state.advance(ctx.now);
    let current = state.books.last().map_or(MediaState::Queued, |b| b.state.clone());
    Reply::Acknowledged(
        InstallMediaResult {
            state: Some(current),
            ..echo
        }
        .to_dictionary(),
    )
}

fn install_steps(install: Duration, finish: MediaState) -> Vec<(Duration, MediaState)> {
    vec![
        (Duration::ZERO, MediaState::Queued),
        (install / 4, MediaState::Installing),
        (install - install / 4, finish),
    ]
}

/// A book waiting for an Apple Account proceeds once one is signed in.
pub(crate) fn resume_after_sign_in(state: &mut DeviceState, install: Duration, storage_full: bool) {
    let now = std::time::Instant::now();
    let finish = if storage_full {
        MediaState::Failed
    } else {
        MediaState::Installed
    };
    for book in state
        .books
        .iter_mut()
        .filter(|b| b.state == MediaState::PromptingForLogin && b.timeline.is_empty())
    {
        book.timeline.push_back((now + install / 4, MediaState::Installing));
        book.timeline.push_back((now + install, finish.clone()));
    }
}

/// Acknowledged even when the book is not there (§7.7).
pub(crate) fn remove(state: &mut DeviceState, request: &RemoveMedia) -> Reply {
    state.books.retain(|book| match &request.target {
        MediaTarget::ITunesStoreId(id) => book.store_id != Some(*id),
        MediaTarget::PersistentId(id) => book.persistent_id.as_deref() != Some(id.as_str()),
    });
    Reply::Acknowledged(Dictionary::new())
}

pub(crate) fn list(state: &mut DeviceState) -> Reply {
    let books = state
        .books
        .iter()
        .map(|book| ManagedBook {
            itunes_store_id: book.store_id,
            state: Some(book.state.clone()),
            persistent_id: book.persistent_id.clone(),
            kind: book.kind.clone(),
            version: book.version.clone(),
            author: book.author.clone(),
            title: book.title.clone(),
            ..ManagedBook::default()
        })
        .collect();
    // `Failed` and `Unknown` are reported once (§7.7).
    state.books.retain(|book| !book.state.is_transient());
    Reply::Acknowledged(
        ManagedMediaListResult {
            books,
            ..ManagedMediaListResult::default()
        }
        .to_dictionary(),
    )
}
