//! Where an area handle runs its statements: on a connection taken from the pool, or inside the
//! caller's transaction. Every area method is written once against [`Conn`], which is why
//! `store.findings().set_status(..)` and `tx.findings().set_status(..)` are the same code.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};

use crate::error::StoreResult;

pub(crate) enum Conn<'a> {
    Pool(&'a PgPool),
    Tx(&'a mut PgConnection),
}

/// A connection for the duration of one area method: pooled connections go back to the pool when
/// it is dropped; a transaction's connection stays with the transaction.
pub(crate) enum Guard<'a> {
    Pooled(PoolConnection<Postgres>),
    Borrowed(&'a mut PgConnection),
}

impl Conn<'_> {
    pub(crate) async fn acquire(&mut self) -> StoreResult<Guard<'_>> {
        match self {
            Conn::Pool(pool) => Ok(Guard::Pooled(pool.acquire().await?)),
            Conn::Tx(conn) => Ok(Guard::Borrowed(conn)),
        }
    }
}

impl Deref for Guard<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match self {
            Guard::Pooled(conn) => conn,
            Guard::Borrowed(conn) => conn,
        }
    }
}

impl DerefMut for Guard<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Guard::Pooled(conn) => conn,
            Guard::Borrowed(conn) => conn,
        }
    }
}

/// Declares an area handle: a struct over [`Conn`] plus its constructor.
macro_rules! area_handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<'a> {
            conn: $crate::conn::Conn<'a>,
        }

        impl<'a> $name<'a> {
            pub(crate) fn new(conn: $crate::conn::Conn<'a>) -> Self {
                Self { conn }
            }
        }
    };
}

pub(crate) use area_handle;
