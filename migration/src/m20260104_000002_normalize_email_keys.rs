//! Recomputes `users.email_key` in Unicode's compatibility form.

use crate::m20260101_000001_create_users_table::Users;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, FromQueryResult};
use unicode_normalization::UnicodeNormalization;

/// Rewrites every account's `email_key` as the server now compares
/// addresses: NFKC, then lower case (`ｊａｋｅ@example.org` is
/// `jake@example.org`); it was lower case alone. Plain ASCII addresses keep
/// their key. Fails on the unique index where two existing addresses become
/// one, and may then run again once one of them is changed.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The key of an address: the same as the server's `fields::email_key`.
fn email_key(address: &str) -> String {
    address.trim().nfkc().collect::<String>().to_lowercase()
}

#[derive(FromQueryResult)]
struct Account {
    id: i64,
    email: String,
    email_key: String,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let select = Query::select()
            .columns([Users::Id, Users::Email, Users::EmailKey])
            .from(Users::Table)
            .to_owned();
        let accounts = Account::find_by_statement(backend.build(&select))
            .all(db)
            .await?;
        for account in accounts {
            let key = email_key(&account.email);
            if key == account.email_key {
                continue;
            }
            let update = Query::update()
                .table(Users::Table)
                .value(Users::EmailKey, key)
                .and_where(Expr::col(Users::Id).eq(account.id))
                .to_owned();
            db.execute(&update).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The keys in their new form compare every address the old ones did.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_nfkc_and_lower_case() {
        assert_eq!(email_key(" Jake@Example.org "), "jake@example.org");
        assert_eq!(email_key("ｊａｋｅ@example.org"), "jake@example.org");
    }
}
