//! A little SQL plumbing: positional arguments for runtime-built queries,
//! and database errors turned into domain errors.

use haishin_domain::DomainError;
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    #[error("database: {0}")]
    Sqlx(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        StorageError::Sqlx(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StorageError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StorageError::Migrate(e)
    }
}

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone)]
pub enum Arg {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bytes(Vec<u8>),
    OptBytes(Option<Vec<u8>>),
}

/// Builds SQL text with numbered placeholders alongside its arguments, so
/// the same text runs on SQLite and PostgreSQL.
#[derive(Default)]
pub struct Query {
    pub sql: String,
    args: Vec<Arg>,
}

impl Query {
    pub fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            args: Vec::new(),
        }
    }

    /// Adds an argument and returns its placeholder (`$3`).
    pub fn arg(&mut self, value: Arg) -> String {
        self.args.push(value);
        format!("${}", self.args.len())
    }

    /// Adds several arguments and returns their placeholders joined by
    /// commas (`$3, $4, $5`), for VALUES rows and IN lists.
    pub fn args(&mut self, values: impl IntoIterator<Item = Arg>) -> String {
        values.into_iter().map(|v| self.arg(v)).collect::<Vec<_>>().join(", ")
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    /// Appends `text` with `{}` replaced by a new placeholder for `value`.
    pub fn push_arg(&mut self, text: &str, value: Arg) -> &mut Self {
        let placeholder = self.arg(value);
        self.sql.push_str(&text.replacen("{}", &placeholder, 1));
        self
    }

    pub fn arguments(&self) -> AnyArguments {
        let mut out = AnyArguments::default();
        for arg in &self.args {
            let result = match arg {
                Arg::Int(v) => out.add(*v),
                Arg::OptInt(v) => out.add(*v),
                Arg::Text(v) => out.add(v.clone()),
                Arg::OptText(v) => out.add(v.clone()),
                Arg::Bytes(v) => out.add(v.clone()),
                Arg::OptBytes(v) => out.add(v.clone()),
            };
            result.expect("encoding plain values cannot fail");
        }
        out
    }

    pub fn sql(&self) -> sqlx::AssertSqlSafe<String> {
        sqlx::AssertSqlSafe(self.sql.clone())
    }

    pub fn as_query(&self) -> sqlx::query::Query<'_, Any, AnyArguments> {
        sqlx::query_with(self.sql(), self.arguments())
    }

    pub fn as_query_as<T>(&self) -> sqlx::query::QueryAs<'_, Any, T, AnyArguments>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_as_with(self.sql(), self.arguments())
    }

    pub fn as_scalar<T>(&self) -> sqlx::query::QueryScalar<'_, Any, T, AnyArguments>
    where
        (T,): for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_scalar_with(self.sql(), self.arguments())
    }
}

pub fn text(v: &str) -> Arg {
    Arg::Text(v.to_owned())
}

pub fn opt_text(v: &Option<String>) -> Arg {
    Arg::OptText(v.clone())
}

/// Database failures become domain errors: unique-constraint violations
/// become a conflict naming the field people recognise; anything else is
/// internal (logged here, never shown to the admin).
pub fn db_error(error: sqlx::Error) -> DomainError {
    if let sqlx::Error::Database(db) = &error
        && db.is_unique_violation()
    {
        let detail = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
        return unique_conflict(&detail);
    }
    tracing::error!(%error, "database error");
    DomainError::internal(error)
}

fn unique_conflict(detail: &str) -> DomainError {
    let (code, ja, en) = if detail.contains("serial_number") {
        (
            "duplicate_serial_number",
            "このシリアル番号は既に別の端末で登録されています。",
            "This serial number is already used by another device.",
        )
    } else if detail.contains("udid") {
        (
            "duplicate_udid",
            "このUDIDは既に別の端末で登録されています。",
            "This UDID is already used by another device.",
        )
    } else if detail.contains("device_number") {
        (
            "duplicate_device_number",
            "この端末番号は既に使われています。",
            "This device number is already in use.",
        )
    } else if detail.contains("employee_number") {
        (
            "duplicate_employee_number",
            "この社員番号は既に登録されています。",
            "This employee number is already registered.",
        )
    } else if detail.contains("login") {
        (
            "duplicate_login",
            "このログインIDは既に使われています。",
            "This login is already taken.",
        )
    } else if detail.contains("sibling_name") || detail.contains("org_groups") {
        (
            "duplicate_group_name",
            "同じ親グループの下に同じ名前のグループがあります。",
            "A group with this name already exists under the same parent.",
        )
    } else {
        (
            "duplicate",
            "同じ値が既に登録されています。",
            "The same value is already registered.",
        )
    };
    DomainError::conflict(code, ja, en)
}

pub type Result<T> = std::result::Result<T, DomainError>;

/// Shorthand for `.map_err(db_error)`.
pub trait DbResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> DbResult<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(db_error)
    }
}

impl Query {
    /// Appends another query's text and arguments, renumbering its
    /// placeholders after this one's (used to share a WHERE clause between a
    /// COUNT and a page of rows).
    pub fn append(&mut self, other: &Query) {
        let offset = self.args.len();
        let mut text = String::with_capacity(other.sql.len());
        let mut chars = other.sql.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                let mut number = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    number.push(*d);
                    chars.next();
                }
                let n: usize = number.parse().expect("digits");
                text.push_str(&format!("${}", n + offset));
            } else {
                text.push(c);
            }
        }
        self.sql.push_str(&text);
        self.args.extend(other.args.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_renumbers_placeholders() {
        let mut filter = Query::new(" WHERE ");
        filter
            .push_arg("a = {}", Arg::Int(1))
            .push_arg(" AND b = {}", Arg::Int(2));
        let mut q = Query::new("SELECT x FROM t");
        q.append(&filter);
        q.push_arg(" LIMIT {}", Arg::Int(3));
        assert_eq!(q.sql, "SELECT x FROM t WHERE a = $1 AND b = $2 LIMIT $3");
        let mut q = Query::new("SELECT ");
        q.push_arg("{} AS k", Arg::Int(0));
        q.append(&filter);
        assert_eq!(q.sql, "SELECT $1 AS k WHERE a = $2 AND b = $3");
    }
}
