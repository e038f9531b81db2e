//! The SQL seam: a connection that runs parameterised statements and returns rows of
//! plain values, implemented by the adapters that own a database (SQLite, PostgreSQL)
//! and used by adapters that keep tables of their own on whichever database a pair
//! names (the OpenSpec tables). The user of the seam writes its statements once, with
//! `?1`, `?2`... placeholders, and keeps the few statements that differ per database
//! (the table layout, full-text search) behind [`Dialect`].
//!
//! Nothing here does I/O; an implementation's errors name its database, never a password.

use std::fmt;

/// A value crossing the seam, as a parameter or a column.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// SQL NULL.
    Null,
    /// An integer (SQLite INTEGER, PostgreSQL BIGINT/INTEGER/SMALLINT/BOOLEAN).
    Int(i64),
    /// A float (REAL, DOUBLE PRECISION).
    Real(f64),
    /// Text.
    Text(String),
}

impl SqlValue {
    /// The integer, `None` for NULL or another type.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            SqlValue::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// The text, `None` for NULL or another type.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            SqlValue::Text(s) => Some(s),
            _ => None,
        }
    }
    /// The text, owned (`None` for NULL or another type).
    pub fn into_text(self) -> Option<String> {
        match self {
            SqlValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}
impl From<f64> for SqlValue {
    fn from(v: f64) -> Self {
        SqlValue::Real(v)
    }
}
impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}
impl From<&String> for SqlValue {
    fn from(v: &String) -> Self {
        SqlValue::Text(v.clone())
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// Which database is behind a connection, for the statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (bundled, with FTS5).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Why a statement failed: the database's message, naming the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    /// What went wrong, with the database named (never its password).
    pub message: String,
    /// Whether the connection itself failed (unreachable, lost), not the statement.
    pub unavailable: bool,
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

/// A row: the selected columns in order.
pub type SqlRow = Vec<SqlValue>;

/// A connection to one database. Statements use `?N` placeholders (1-based); an
/// implementation translates them to its own. Calls on one connection run in order, so
/// `BEGIN` ... `COMMIT` through [`SqlConn::batch`] is a transaction.
pub trait SqlConn: Send {
    /// Which database this is.
    fn dialect(&self) -> Dialect;
    /// The database, for messages: a file path or `postgres://user@host:port/db`.
    fn label(&self) -> &str;
    /// Runs one statement; the number of rows it changed.
    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, SqlError>;
    /// Runs one query; every row it returns.
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>, SqlError>;
    /// Runs statements separated by `;`, with no parameters (layout, transactions).
    fn batch(&self, sql: &str) -> Result<(), SqlError>;
}
