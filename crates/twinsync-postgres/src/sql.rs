//! The PostgreSQL side of the SQL seam ([`twinsync_core::sql`]): a server as a
//! [`SqlConn`], for tables another adapter owns (the OpenSpec tables of an `openspec`
//! pair). Statements come with `?N` placeholders and are sent with `$N`; values are
//! converted to the types the server says each parameter has, so the caller writes
//! plain integers, floats and text whatever the column's width.

use std::cell::Cell;

use postgres::types::{ToSql, Type};
use postgres::Row;
use twinsync_core::sql::{Dialect, SqlConn, SqlError, SqlRow, SqlValue};

use crate::schema::{Db, OpenError};

/// A PostgreSQL server behind the seam, its `search_path` set to one schema.
pub struct PgSql {
    db: Db,
    /// Inside `BEGIN` ... `COMMIT`: a lost connection must fail the statements that
    /// follow, not run them on a new connection outside the transaction.
    in_tx: Cell<bool>,
}

impl std::fmt::Debug for PgSql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSql").field("db", &self.db.label()).finish()
    }
}

impl PgSql {
    /// Connects to `url` with `schema` first on the `search_path` (the schema need not
    /// exist yet); errors name host and database, never the password.
    pub fn open(url: &str, schema: &'static str) -> Result<PgSql, String> {
        let db = Db::connect(url, schema).map_err(|e| match e {
            OpenError::Backend(m) | OpenError::Corrupt(m) => m,
        })?;
        Ok(PgSql { db, in_tx: Cell::new(false) })
    }

    fn error(&self, e: &postgres::Error) -> SqlError {
        let described = self.db.describe(e);
        let prefix = format!("{}: ", self.db.label());
        let message = described.strip_prefix(&prefix).map(str::to_string).unwrap_or(described);
        // A server error (a constraint, a type) is the statement's; anything else is the link's.
        SqlError { message, unavailable: e.as_db_error().is_none() }
    }

    fn lost(&self) -> Option<SqlError> {
        (self.in_tx.get() && !self.db.is_connected()).then(|| SqlError {
            message: "the connection was lost inside a transaction, which the server rolled back".into(),
            unavailable: true,
        })
    }

    fn run<T>(
        &self,
        sql: &str,
        params: &[SqlValue],
        f: impl FnOnce(&mut postgres::Client, &postgres::Statement, &[&(dyn ToSql + Sync)]) -> Result<T, postgres::Error>,
    ) -> Result<T, SqlError> {
        if let Some(e) = self.lost() {
            return Err(e);
        }
        let sql = dollar_placeholders(sql);
        let mut session = self.db.session().map_err(|m| SqlError { message: m, unavailable: true })?;
        let client = &mut session.client;
        let stmt = client.prepare(&sql).map_err(|e| self.error(&e))?;
        let values: Vec<Box<dyn ToSql + Sync>> = params
            .iter()
            .zip(stmt.params().iter().chain(std::iter::repeat(&Type::TEXT)))
            .map(|(v, t)| typed(v, t))
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        f(client, &stmt, &refs).map_err(|e| self.error(&e))
    }
}

/// `?N` placeholders as PostgreSQL's `$N` (outside quoted text).
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => quoted = !quoted,
            '?' if !quoted && chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// `v` as the Rust type that PostgreSQL type `t` takes.
fn typed(v: &SqlValue, t: &Type) -> Box<dyn ToSql + Sync> {
    match (v, t) {
        (SqlValue::Null, t) if *t == Type::INT8 => Box::new(None::<i64>),
        (SqlValue::Null, t) if *t == Type::INT4 => Box::new(None::<i32>),
        (SqlValue::Null, t) if *t == Type::FLOAT8 => Box::new(None::<f64>),
        (SqlValue::Null, _) => Box::new(None::<String>),
        (SqlValue::Int(i), t) if *t == Type::INT4 => Box::new(*i as i32),
        (SqlValue::Int(i), t) if *t == Type::INT2 => Box::new(*i as i16),
        (SqlValue::Int(i), t) if *t == Type::FLOAT8 => Box::new(*i as f64),
        (SqlValue::Int(i), t) if *t == Type::BOOL => Box::new(*i != 0),
        (SqlValue::Int(i), t) if *t == Type::TEXT => Box::new(i.to_string()),
        (SqlValue::Int(i), _) => Box::new(*i),
        (SqlValue::Real(f), t) if *t == Type::FLOAT4 => Box::new(*f as f32),
        (SqlValue::Real(f), _) => Box::new(*f),
        (SqlValue::Text(s), _) => Box::new(s.clone()),
    }
}

/// Column `i` of `row` as a seam value.
fn column(row: &Row, i: usize) -> Result<SqlValue, postgres::Error> {
    let t = row.columns()[i].type_();
    let v = if *t == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?.map(SqlValue::Int)
    } else if *t == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?.map(|v| SqlValue::Int(v.into()))
    } else if *t == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?.map(|v| SqlValue::Int(v.into()))
    } else if *t == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?.map(|v| SqlValue::Int(v.into()))
    } else if *t == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)?.map(SqlValue::Real)
    } else if *t == Type::FLOAT4 {
        row.try_get::<_, Option<f32>>(i)?.map(|v| SqlValue::Real(v.into()))
    } else {
        row.try_get::<_, Option<String>>(i)?.map(SqlValue::Text)
    };
    Ok(v.unwrap_or(SqlValue::Null))
}

impl SqlConn for PgSql {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn label(&self) -> &str {
        self.db.label()
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, SqlError> {
        self.run(sql, params, |c, stmt, p| c.execute(stmt, p))
    }

    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>, SqlError> {
        self.run(sql, params, |c, stmt, p| {
            c.query(stmt, p)?.iter().map(|row| (0..row.len()).map(|i| column(row, i)).collect()).collect()
        })
    }

    fn batch(&self, sql: &str) -> Result<(), SqlError> {
        let verb = sql.trim().to_ascii_uppercase();
        if let Some(e) = self.lost() {
            if verb == "ROLLBACK" {
                // The server rolled back when the connection went; the transaction is over.
                self.in_tx.set(false);
                return Ok(());
            }
            return Err(e);
        }
        let out = self
            .db
            .session()
            .map_err(|m| SqlError { message: m, unavailable: true })
            .and_then(|mut s| s.client.batch_execute(sql).map_err(|e| self.error(&e)));
        match verb.as_str() {
            "BEGIN" => self.in_tx.set(out.is_ok()),
            "COMMIT" | "ROLLBACK" => self.in_tx.set(false),
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::dollar_placeholders;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(dollar_placeholders("a = ?1 AND b = ?12 AND c = '?3'"), "a = $1 AND b = $12 AND c = '?3'");
        assert_eq!(dollar_placeholders("x ? y"), "x ? y");
    }
}
