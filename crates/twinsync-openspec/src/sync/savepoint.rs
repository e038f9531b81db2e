//! The savepoint a pass and each row are written in, so a row that fails half way
//! leaves the database as it was.

/// A savepoint on the connection: released by [`Savepoint::commit`], rolled back when
/// dropped uncommitted (an error left the row half done). Outside a transaction it is one.
pub(super) struct Savepoint<'c> {
    conn: &'c rusqlite::Connection,
    done: bool,
}

impl<'c> Savepoint<'c> {
    pub(super) fn new(conn: &'c rusqlite::Connection) -> rusqlite::Result<Savepoint<'c>> {
        conn.execute_batch("SAVEPOINT openspec_sync")?;
        Ok(Savepoint { conn, done: false })
    }

    pub(super) fn commit(mut self) -> rusqlite::Result<()> {
        self.done = true;
        self.conn.execute_batch("RELEASE openspec_sync")
    }
}

impl std::ops::Deref for Savepoint<'_> {
    type Target = rusqlite::Connection;
    fn deref(&self) -> &rusqlite::Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK TO openspec_sync; RELEASE openspec_sync");
        }
    }
}
