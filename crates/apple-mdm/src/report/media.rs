//! Result payloads of the book commands and of InviteToProgram.

use plist::Dictionary;

use crate::MdmError;
use crate::command::MediaType;
use crate::fields::{DictWriter, Fields, Record, plist_record, string_enum};

string_enum! {
    /// A managed book's installation state.
    pub enum MediaState {
        /// Scheduled.
        Queued => "Queued",
        /// Waiting for a Book Store sign-in.
        PromptingForLogin => "PromptingForLogin",
        /// Updating.
        Updating => "Updating",
        /// Downloading or installing.
        Installing => "Installing",
        /// Installed and managed (enterprise books).
        Managed => "Managed",
        /// Managed, but the user removed it.
        ManagedButUninstalled => "ManagedButUninstalled",
        /// Installed (Book Store books report this instead of `Managed`).
        Installed => "Installed",
        /// Not installed.
        Uninstalled => "Uninstalled",
        /// Failed (reported once).
        Failed => "Failed",
        /// Unknown (reported once).
        Unknown => "Unknown",
        /// Legacy: installed by the user.
        UserInstalled => "UserInstalled",
        /// Legacy: rejected.
        Rejected => "Rejected",
    }
}

impl MediaState {
    /// Transient states are reported once; persist them when seen.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Failed | Self::Unknown)
    }
}

string_enum! {
    /// `RejectionReason` of a failed `InstallMedia`.
    pub enum MediaRejectionReason {
        /// The `iTunesStoreID` is invalid.
        CouldNotVerifyITunesStoreID => "CouldNotVerifyITunesStoreID",
        /// No license for the book in the user's purchase history.
        PurchaseNotFound => "PurchaseNotFound",
        /// The App Store is disabled.
        AppStoreDisabled => "AppStoreDisabled",
        /// `MediaType` is not `Book`.
        WrongMediaType => "WrongMediaType",
        /// The URL does not lead to a valid book.
        DownloadInvalid => "DownloadInvalid",
        /// Shared iPad cannot take enterprise (URL) books.
        EnterpriseBooksNotSupportedInMultiUser => "EnterpriseBooksNotSupportedInMultiUser",
    }
}

/// Reply to `InstallMedia`; echoes the identifying keys of the request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstallMediaResult {
    /// `iTunesStoreID`, if the request had one.
    pub itunes_store_id: Option<u64>,
    /// `MediaURL`, if the request had one.
    pub media_url: Option<String>,
    /// `PersistentID`, if the request had one.
    pub persistent_id: Option<String>,
    /// `MediaType`.
    pub media_type: Option<MediaType>,
    /// `State`.
    pub state: Option<MediaState>,
    /// `RejectionReason`, on `Error`.
    pub rejection_reason: Option<MediaRejectionReason>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for InstallMediaResult {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            itunes_store_id: f.store_id("iTunesStoreID")?,
            media_url: f.string("MediaURL")?,
            persistent_id: f.string("PersistentID")?,
            media_type: f.parsed("MediaType")?,
            state: f.parsed("State")?,
            rejection_reason: f.parsed("RejectionReason")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_unsigned("iTunesStoreID", self.itunes_store_id);
        out.opt_string("MediaURL", self.media_url.as_deref());
        out.opt_string("PersistentID", self.persistent_id.as_deref());
        out.opt_string("MediaType", self.media_type.as_ref().map(MediaType::as_str));
        out.opt_string("State", self.state.as_ref().map(MediaState::as_str));
        out.opt_string(
            "RejectionReason",
            self.rejection_reason.as_ref().map(MediaRejectionReason::as_str),
        );
        out.extra(&self.extra);
    }
}

/// One book in `ManagedMediaList`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagedBook {
    /// `iTunesStoreID`; Apple marks it required, but enterprise books are identified by
    /// `PersistentID`, so it is kept optional.
    pub itunes_store_id: Option<u64>,
    /// `State`.
    pub state: Option<MediaState>,
    /// `PersistentID`.
    pub persistent_id: Option<String>,
    /// `Kind`: `pdf`, `epub`, `ibooks` or a file extension.
    pub kind: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `Author`.
    pub author: Option<String>,
    /// `Title`.
    pub title: Option<String>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for ManagedBook {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            itunes_store_id: f.store_id("iTunesStoreID")?,
            state: f.parsed("State")?,
            persistent_id: f.string("PersistentID")?,
            kind: f.string("Kind")?,
            version: f.string("Version")?,
            author: f.string("Author")?,
            title: f.string("Title")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_unsigned("iTunesStoreID", self.itunes_store_id);
        out.opt_string("State", self.state.as_ref().map(MediaState::as_str));
        out.opt_string("PersistentID", self.persistent_id.as_deref());
        out.opt_string("Kind", self.kind.as_deref());
        out.opt_string("Version", self.version.as_deref());
        out.opt_string("Author", self.author.as_deref());
        out.opt_string("Title", self.title.as_deref());
        out.extra(&self.extra);
    }
}

/// Result of `ManagedMediaList`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagedMediaListResult {
    /// `Books`.
    pub books: Vec<ManagedBook>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for ManagedMediaListResult {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            books: f.records("Books")?.ok_or_else(|| f.missing("Books"))?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_records("Books", Some(&self.books));
        out.extra(&self.extra);
    }
}

string_enum! {
    /// `InvitationResult` of `InviteToProgram`. `Acknowledged` only means the
    /// invitation was shown; whether the user accepted is not reported.
    pub enum InvitationResult {
        /// The invitation was displayed.
        Acknowledged => "Acknowledged",
        /// `ProgramID` was not `com.apple.cloudvpp`.
        InvalidProgramID => "InvalidProgramID",
        /// The invitation URL was rejected.
        InvalidInvitationURL => "InvalidInvitationURL",
    }
}

/// Result of `InviteToProgram`.
#[derive(Debug, Clone, PartialEq)]
pub struct InviteToProgramResult {
    /// `InvitationResult`.
    pub invitation_result: InvitationResult,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for InviteToProgramResult {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            invitation_result: f
                .parsed("InvitationResult")?
                .ok_or_else(|| f.missing("InvitationResult"))?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("InvitationResult", self.invitation_result.as_str());
        out.extra(&self.extra);
    }
}

plist_record!(
    InstallMediaResult,
    ManagedBook,
    ManagedMediaListResult,
    InviteToProgramResult,
);
