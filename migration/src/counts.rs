//! What the maintained counts mean, as statements that compute them from the
//! rows: the migration that adds them runs these, and so may anything that
//! writes rows in bulk (the seeder) or needs to check them.
//!
//! A count leaves out what the API hides: comments by banned users, and
//! articles by banned authors in the counts of tags and of all articles.

/// The name of the `counters` row that counts published articles by authors
/// who are not banned.
pub const PUBLISHED_ARTICLES: &str = "published_articles";

/// Copies each tag link's article's creation time and publication into the
/// link (`article_tags.article_created_at`, `article_published`).
pub const LISTING_COPIES: &str = "UPDATE article_tags SET \
       article_created_at = (SELECT created_at FROM articles WHERE articles.id = article_tags.article_id), \
       article_published = (SELECT published_at IS NOT NULL FROM articles \
                             WHERE articles.id = article_tags.article_id)";

/// Sets every maintained count to what the rows say. Plain SQL that reads the
/// same on SQLite, PostgreSQL and MySQL/MariaDB.
pub const RECOUNT: [&str; 7] = [
    "UPDATE articles SET favorites_count = \
       (SELECT COUNT(*) FROM favorites WHERE favorites.article_id = articles.id)",
    "UPDATE articles SET comments_count = \
       (SELECT COUNT(*) FROM comments WHERE comments.article_id = articles.id \
          AND comments.author_id NOT IN (SELECT id FROM users WHERE banned_at IS NOT NULL))",
    "UPDATE users SET followers_count = \
       (SELECT COUNT(*) FROM follows WHERE follows.followee_id = users.id)",
    "UPDATE users SET following_count = \
       (SELECT COUNT(*) FROM follows WHERE follows.follower_id = users.id)",
    "UPDATE users SET articles_count = \
       (SELECT COUNT(*) FROM articles WHERE articles.author_id = users.id \
          AND articles.published_at IS NOT NULL)",
    "UPDATE tags SET article_count = \
       (SELECT COUNT(*) FROM article_tags \
          JOIN articles ON articles.id = article_tags.article_id \
        WHERE article_tags.tag_id = tags.id AND articles.published_at IS NOT NULL \
          AND articles.author_id NOT IN (SELECT id FROM users WHERE banned_at IS NOT NULL))",
    "UPDATE counters SET value = \
       (SELECT COUNT(*) FROM articles WHERE articles.published_at IS NOT NULL \
          AND articles.author_id NOT IN (SELECT id FROM users WHERE banned_at IS NOT NULL)) \
     WHERE name = 'published_articles'",
];
