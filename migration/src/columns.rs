//! Column definitions shared by the migrations.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// A 64-bit auto-incrementing primary key.
pub fn id(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

/// A 64-bit foreign key column.
pub fn reference(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

/// A UTC timestamp with microsecond precision on every backend.
///
/// MySQL's `TIMESTAMP` stops at 2038 and keeps whole seconds by default, so it
/// gets `DATETIME(6)`; PostgreSQL gets `timestamptz`; SQLite stores RFC 3339
/// text, which sorts in time order because every value is written in UTC.
pub fn timestamp(manager: &SchemaManager, name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match manager.get_database_backend() {
        DatabaseBackend::MySql => column.custom(Alias::new("DATETIME(6)")),
        _ => column.timestamp_with_time_zone(),
    };
    column.to_owned()
}
