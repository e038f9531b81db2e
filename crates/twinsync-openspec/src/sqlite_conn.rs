//! The SQLite side of the SQL seam ([`twinsync_core::sql`]): an `openspec.db` file (or
//! an in-memory database) as a [`SqlConn`], with statements prepared once per
//! connection. The PostgreSQL side is in twinsync-postgres.

use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use twinsync_core::sql::{Dialect, SqlConn, SqlError, SqlRow, SqlValue};

/// An SQLite connection behind the seam.
#[derive(Debug)]
pub struct SqliteConn {
    pub(crate) conn: Connection,
    path: String,
}

impl SqliteConn {
    /// Wraps `conn`, named `path` in messages.
    pub fn new(conn: Connection, path: impl Into<String>) -> SqliteConn {
        SqliteConn { conn, path: path.into() }
    }
}

/// An SQLite error as the seam carries it.
pub(crate) fn sql_error(e: rusqlite::Error) -> SqlError {
    SqlError { message: e.to_string(), unavailable: false }
}

fn param(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Int(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
    }
}

fn column(v: ValueRef<'_>) -> SqlValue {
    match v {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Int(i),
        ValueRef::Real(f) => SqlValue::Real(f),
        // The tables hold text; bytes written by other SQL are read as text, lossily.
        ValueRef::Text(b) | ValueRef::Blob(b) => SqlValue::Text(String::from_utf8_lossy(b).into_owned()),
    }
}

impl SqlConn for SqliteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn label(&self) -> &str {
        &self.path
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, SqlError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sql_error)?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter().map(param))).map_err(sql_error)?;
        Ok(n as u64)
    }

    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>, SqlError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sql_error)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(param))).map_err(sql_error)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sql_error)? {
            let mut row = Vec::with_capacity(width);
            for i in 0..width {
                row.push(column(r.get_ref(i).map_err(sql_error)?));
            }
            out.push(row);
        }
        Ok(out)
    }

    fn batch(&self, sql: &str) -> Result<(), SqlError> {
        self.conn.execute_batch(sql).map_err(sql_error)
    }
}
