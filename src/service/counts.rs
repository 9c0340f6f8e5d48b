//! The maintained counts: the statements that keep them, each run in the
//! transaction of the write that changes what they count.
//!
//! What each count means is written once, as the statements that compute it
//! from the rows ([`migration::counts::RECOUNT`]). A read takes a count from
//! one row; the writes here add to it or take from it:
//!
//! - `articles.favorites_count`: favorites and unfavorites.
//! - `articles.comments_count`: comments added and deleted by users who are
//!   not banned, and bans.
//! - `users.followers_count` and `users.following_count`: follows.
//! - `users.articles_count`: publishing, unpublishing and deleting.
//! - `tags.article_count` and the `published_articles` counter: the same,
//!   tag changes, and bans.
//!
//! Counts that leave out banned users' rows depend on who is banned, so the
//! writes that change them first lock the account whose ban would change the
//! answer ([`lock_account`]), and a ban locks it too: a write and a ban of the
//! same account never interleave, and the statements after the lock see the
//! account as it is. Locks are taken in one order (accounts, then articles,
//! then tags, then counters) so that writes wait for each other rather than
//! deadlock.

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};

use crate::error::Result;
pub use migration::counts::PUBLISHED_ARTICLES;

/// Whether the counts an article row carries are as they are now.
///
/// A row read from the database for this request carries its counts as of
/// that read; a row from the cache, or one a mutation changed the counts of
/// after reading it, may carry older ones, and its counts are read again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RowCounts {
    /// Read with the row for this request.
    Current,
    /// Possibly older than the row's last change.
    #[default]
    MayLag,
}

/// How a lock on an account is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountLock {
    /// Writes that depend on the account not being banned: they may run
    /// alongside each other, never alongside a ban.
    Shared,
    /// Bans, and writes that change the account's own counts.
    Exclusive,
}

/// `sql`, written with `?` placeholders, for `backend`.
fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DatabaseBackend::Postgres => {
            let mut numbered = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    numbered.push_str(&format!("${n}"));
                } else {
                    numbered.push(c);
                }
            }
            numbered
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Runs `sql` with `values` on `db`; the number of rows it changed.
async fn run(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64> {
    let done = db
        .execute_raw(statement(db.get_database_backend(), sql, values))
        .await?;
    Ok(done.rows_affected())
}

/// Holds the account `user_id` until the transaction on `db` ends, so that no
/// ban or unban of it runs in between; statements run after this see its
/// ban as it is. On SQLite, where one writer runs at a time, it makes the
/// transaction that writer at once.
pub async fn lock_account(
    db: &impl ConnectionTrait,
    user_id: i64,
    lock: AccountLock,
) -> Result<()> {
    let backend = db.get_database_backend();
    let sql = match (backend, lock) {
        (DatabaseBackend::Postgres, AccountLock::Shared) => {
            "SELECT id FROM users WHERE id = ? FOR SHARE"
        }
        (DatabaseBackend::MySql, AccountLock::Shared) => {
            "SELECT id FROM users WHERE id = ? LOCK IN SHARE MODE"
        }
        (DatabaseBackend::Sqlite, _) => "UPDATE users SET id = id WHERE id = ?",
        (_, AccountLock::Exclusive) => "SELECT id FROM users WHERE id = ? FOR UPDATE",
        // Other backends are not supported; a plain read holds nothing.
        (_, AccountLock::Shared) => "SELECT id FROM users WHERE id = ?",
    };
    if backend == DatabaseBackend::Sqlite {
        run(db, sql, vec![user_id.into()]).await?;
    } else {
        db.query_all_raw(statement(backend, sql, vec![user_id.into()]))
            .await?;
    }
    Ok(())
}

/// The article `article_id` gained `delta` favorites; whether it is there.
/// Written before the favorite rows, it holds the article until the
/// transaction ends, as deleting it does.
pub async fn favorites_changed(
    db: &impl ConnectionTrait,
    article_id: i64,
    delta: i64,
) -> Result<bool> {
    let changed = run(
        db,
        "UPDATE articles SET favorites_count = favorites_count + ? WHERE id = ?",
        vec![delta.into(), article_id.into()],
    )
    .await?;
    Ok(changed > 0)
}

/// The article `article_id` gained `delta` comments by `author_id`, whose
/// account is locked ([`lock_account`]): counted unless the author is banned.
/// Whether the count changed: not when the article is gone (or the author
/// banned). Written before the comment rows, it holds the article until the
/// transaction ends, as deleting it does.
pub async fn comments_changed(
    db: &impl ConnectionTrait,
    article_id: i64,
    author_id: i64,
    delta: i64,
) -> Result<bool> {
    let changed = run(
        db,
        "UPDATE articles SET comments_count = comments_count + ? WHERE id = ? \
           AND EXISTS (SELECT 1 FROM users WHERE users.id = ? AND users.banned_at IS NULL)",
        vec![delta.into(), article_id.into(), author_id.into()],
    )
    .await?;
    Ok(changed > 0)
}

/// `follower` started (`delta` 1) or stopped (-1) following `followee`.
/// The two accounts are written in id order.
pub async fn follows_changed(
    db: &impl ConnectionTrait,
    follower: i64,
    followee: i64,
    delta: i64,
) -> Result<()> {
    let follower_first = follower < followee;
    let updates = [
        (
            "UPDATE users SET following_count = following_count + ? WHERE id = ?",
            follower,
        ),
        (
            "UPDATE users SET followers_count = followers_count + ? WHERE id = ?",
            followee,
        ),
    ];
    let order = if follower_first { [0, 1] } else { [1, 0] };
    for index in order {
        let (sql, id) = updates[index];
        run(db, sql, vec![delta.into(), id.into()]).await?;
    }
    Ok(())
}

/// The article `article_id` by `author_id` was published (`delta` 1) or
/// stopped being published (-1: unpublished or about to be deleted, its tag
/// links still in place). The author's account must be locked exclusively
/// ([`lock_account`]).
pub async fn publication_changed(
    db: &impl ConnectionTrait,
    article_id: i64,
    author_id: i64,
    delta: i64,
) -> Result<()> {
    run(
        db,
        "UPDATE users SET articles_count = articles_count + ? WHERE id = ?",
        vec![delta.into(), author_id.into()],
    )
    .await?;
    run(
        db,
        "UPDATE tags SET article_count = article_count + ? \
         WHERE id IN (SELECT tag_id FROM article_tags WHERE article_id = ?) \
           AND EXISTS (SELECT 1 FROM users WHERE users.id = ? AND users.banned_at IS NULL)",
        vec![delta.into(), article_id.into(), author_id.into()],
    )
    .await?;
    published_total_changed(db, author_id, delta).await
}

/// The tag links of the article `article_id` by `author_id`, whose account is
/// locked, were added (`delta` 1, after linking) or are about to go (-1,
/// before unlinking): they count when the article is published and its
/// author not banned.
pub async fn tag_links_changed(
    db: &impl ConnectionTrait,
    article_id: i64,
    author_id: i64,
    delta: i64,
) -> Result<()> {
    run(
        db,
        "UPDATE tags SET article_count = article_count + ? \
         WHERE id IN (SELECT tag_id FROM article_tags WHERE article_id = ?) \
           AND EXISTS (SELECT 1 FROM articles WHERE articles.id = ? \
                         AND articles.published_at IS NOT NULL) \
           AND EXISTS (SELECT 1 FROM users WHERE users.id = ? AND users.banned_at IS NULL)",
        vec![
            delta.into(),
            article_id.into(),
            article_id.into(),
            author_id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// All published articles gained `delta` by `author_id`, counted unless the
/// author is banned.
async fn published_total_changed(
    db: &impl ConnectionTrait,
    author_id: i64,
    delta: i64,
) -> Result<()> {
    run(
        db,
        "UPDATE counters SET value = value + ? WHERE name = ? \
           AND EXISTS (SELECT 1 FROM users WHERE users.id = ? AND users.banned_at IS NULL)",
        vec![delta.into(), PUBLISHED_ARTICLES.into(), author_id.into()],
    )
    .await?;
    Ok(())
}

/// The account `user_id`, locked exclusively, was banned (`delta` -1) or its
/// ban lifted (1): its comments and published articles leave (or rejoin) the
/// counts that leave out banned users' rows.
pub async fn ban_changed(db: &impl ConnectionTrait, user_id: i64, delta: i64) -> Result<()> {
    run(
        db,
        "UPDATE articles SET comments_count = comments_count + ? * \
           (SELECT COUNT(*) FROM comments \
             WHERE comments.article_id = articles.id AND comments.author_id = ?) \
         WHERE id IN (SELECT article_id FROM comments WHERE author_id = ?)",
        vec![delta.into(), user_id.into(), user_id.into()],
    )
    .await?;
    run(
        db,
        "UPDATE tags SET article_count = article_count + ? * \
           (SELECT COUNT(*) FROM article_tags \
              JOIN articles ON articles.id = article_tags.article_id \
             WHERE article_tags.tag_id = tags.id AND articles.author_id = ? \
               AND articles.published_at IS NOT NULL) \
         WHERE id IN (SELECT article_tags.tag_id FROM article_tags \
                        JOIN articles ON articles.id = article_tags.article_id \
                       WHERE articles.author_id = ? AND articles.published_at IS NOT NULL)",
        vec![delta.into(), user_id.into(), user_id.into()],
    )
    .await?;
    run(
        db,
        "UPDATE counters SET value = value + ? * \
           (SELECT COUNT(*) FROM articles \
             WHERE articles.author_id = ? AND articles.published_at IS NOT NULL) \
         WHERE name = ?",
        vec![delta.into(), user_id.into(), PUBLISHED_ARTICLES.into()],
    )
    .await?;
    Ok(())
}

/// A list of published articles whose length is a maintained count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// All of them, by authors who are not banned.
    All,
    /// Those carrying the tag with this name.
    Tagged(String),
    /// Those by the user with this username key, unless banned.
    By(String),
    /// Those by the authors this user follows who are not banned.
    FollowedBy(i64),
}

/// How many articles `which` holds. One statement that reads maintained
/// counts: one row, or one row per followed author.
pub async fn published_articles(db: &impl ConnectionTrait, which: &Published) -> Result<i64> {
    let backend = db.get_database_backend();
    let (sql, value): (String, Value) = match which {
        Published::All => (
            "SELECT value FROM counters WHERE name = ?".into(),
            PUBLISHED_ARTICLES.into(),
        ),
        Published::Tagged(name) => (
            "SELECT article_count FROM tags WHERE name = ?".into(),
            name.clone().into(),
        ),
        Published::By(username_key) => (
            "SELECT articles_count FROM users WHERE username_key = ? AND banned_at IS NULL".into(),
            username_key.clone().into(),
        ),
        Published::FollowedBy(follower) => {
            // A sum is a decimal on PostgreSQL and MySQL: cast back.
            let integer = match backend {
                DatabaseBackend::Postgres => "BIGINT",
                DatabaseBackend::MySql => "SIGNED",
                _ => "INTEGER",
            };
            (
                format!(
                    "SELECT CAST(COALESCE(SUM(articles_count), 0) AS {integer}) FROM users \
                     WHERE banned_at IS NULL \
                       AND id IN (SELECT followee_id FROM follows WHERE follower_id = ?)"
                ),
                (*follower).into(),
            )
        }
    };
    let row = db
        .query_one_raw(statement(backend, &sql, vec![value]))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => 0,
    })
}

/// Sets every count, and the copies tag links keep of their articles, to
/// what the rows say, for writes that bypass the services (the seeder's bulk
/// inserts).
pub async fn recount_all(db: &impl ConnectionTrait) -> Result<()> {
    for sql in migration::counts::RECOUNT {
        db.execute_unprepared(sql).await?;
    }
    db.execute_unprepared(migration::counts::LISTING_COPIES)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_on_postgres_only() {
        let sql = "UPDATE t SET a = a + ? WHERE id = ?";
        let pg = statement(DatabaseBackend::Postgres, sql, vec![1.into(), 2.into()]);
        assert_eq!(pg.sql, "UPDATE t SET a = a + $1 WHERE id = $2");
        for backend in [DatabaseBackend::MySql, DatabaseBackend::Sqlite] {
            assert_eq!(statement(backend, sql, vec![]).sql, sql);
        }
    }
}
