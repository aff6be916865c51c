//! Book commands: InstallMedia, RemoveMedia, ManagedMediaList.

use plist::Dictionary;

use crate::MdmError;
use crate::fields::{DictWriter, Fields, Record, string_enum};

string_enum! {
    /// `MediaType`; Apple defines only books.
    pub enum MediaType {
        /// A book.
        Book => "Book",
    }
}

/// Which book to install: exactly one of the two keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaSource {
    /// `iTunesStoreID`: a Book Store item licensed through Apps & Books.
    ITunesStoreId(u64),
    /// `MediaURL`: an `https` URL of a PDF, gzipped EPUB or gzipped iBooks Author file
    /// (an "enterprise" book, removed with the MDM profile).
    Url(String),
}

/// `InstallMedia`: install or replace a book.
#[derive(Debug, Clone, PartialEq)]
pub struct InstallMedia {
    /// `MediaType`.
    pub media_type: MediaType,
    /// What to install.
    pub source: MediaSource,
    /// `PersistentID`: reverse-DNS id of an enterprise book; reinstalling with the
    /// same id replaces it.
    pub persistent_id: Option<String>,
    /// `Kind`: `pdf`, `epub` or `ibooks` (defaults to the URL's extension).
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

impl InstallMedia {
    /// Installs a Book Store book by its store id.
    pub fn store_book(itunes_store_id: u64) -> Self {
        Self::new(MediaSource::ITunesStoreId(itunes_store_id), None)
    }

    /// Installs an enterprise book from a URL under a persistent id.
    pub fn enterprise_book(url: impl Into<String>, persistent_id: impl Into<String>) -> Self {
        Self::new(MediaSource::Url(url.into()), Some(persistent_id.into()))
    }

    fn new(source: MediaSource, persistent_id: Option<String>) -> Self {
        Self {
            media_type: MediaType::Book,
            source,
            persistent_id,
            kind: None,
            version: None,
            author: None,
            title: None,
            extra: Dictionary::new(),
        }
    }
}

impl Record for InstallMedia {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        let store_id = f.store_id("iTunesStoreID")?;
        let url = f.string("MediaURL")?;
        let source = match (store_id, url) {
            (Some(id), None) => MediaSource::ITunesStoreId(id),
            (None, Some(url)) => MediaSource::Url(url),
            (None, None) => return Err(f.missing_one_of(&["iTunesStoreID", "MediaURL"])),
            (Some(_), Some(_)) => return Err(f.conflicting(&["iTunesStoreID", "MediaURL"])),
        };
        Ok(Self {
            media_type: f.parsed("MediaType")?.ok_or_else(|| f.missing("MediaType"))?,
            source,
            persistent_id: f.string("PersistentID")?,
            kind: f.string("Kind")?,
            version: f.string("Version")?,
            author: f.string("Author")?,
            title: f.string("Title")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("MediaType", self.media_type.as_str());
        match &self.source {
            MediaSource::ITunesStoreId(id) => out.opt_unsigned("iTunesStoreID", Some(*id)),
            MediaSource::Url(url) => out.string("MediaURL", url),
        }
        out.opt_string("PersistentID", self.persistent_id.as_deref());
        out.opt_string("Kind", self.kind.as_deref());
        out.opt_string("Version", self.version.as_deref());
        out.opt_string("Author", self.author.as_deref());
        out.opt_string("Title", self.title.as_deref());
        out.extra(&self.extra);
    }
}

/// Which book to remove.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaTarget {
    /// `iTunesStoreID`.
    ITunesStoreId(u64),
    /// `PersistentID`.
    PersistentId(String),
}

/// `RemoveMedia`: remove a managed book. Acknowledged even if the book is not found,
/// so the acknowledgement proves nothing about prior state.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoveMedia {
    /// `MediaType`.
    pub media_type: MediaType,
    /// Which book.
    pub target: MediaTarget,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl RemoveMedia {
    /// Removes a Book Store book.
    pub fn store_book(itunes_store_id: u64) -> Self {
        Self::new(MediaTarget::ITunesStoreId(itunes_store_id))
    }

    /// Removes an enterprise book.
    pub fn enterprise_book(persistent_id: impl Into<String>) -> Self {
        Self::new(MediaTarget::PersistentId(persistent_id.into()))
    }

    fn new(target: MediaTarget) -> Self {
        Self {
            media_type: MediaType::Book,
            target,
            extra: Dictionary::new(),
        }
    }
}

impl Record for RemoveMedia {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        let store_id = f.store_id("iTunesStoreID")?;
        let persistent_id = f.string("PersistentID")?;
        let target = match (store_id, persistent_id) {
            (Some(id), None) => MediaTarget::ITunesStoreId(id),
            (None, Some(id)) => MediaTarget::PersistentId(id),
            (None, None) => return Err(f.missing_one_of(&["iTunesStoreID", "PersistentID"])),
            (Some(_), Some(_)) => {
                return Err(f.conflicting(&["iTunesStoreID", "PersistentID"]));
            }
        };
        Ok(Self {
            media_type: f.parsed("MediaType")?.ok_or_else(|| f.missing("MediaType"))?,
            target,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("MediaType", self.media_type.as_str());
        match &self.target {
            // Sent as an integer like every other command and the legacy reference,
            // although Apple's schema types this one key as a string.
            MediaTarget::ITunesStoreId(id) => out.opt_unsigned("iTunesStoreID", Some(*id)),
            MediaTarget::PersistentId(id) => out.string("PersistentID", id),
        }
        out.extra(&self.extra);
    }
}

/// `ManagedMediaList`: the managed books. No parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagedMediaList {
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for ManagedMediaList {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self { extra: f.rest() })
    }

    fn write(&self, out: &mut DictWriter) {
        out.extra(&self.extra);
    }
}
