//! `conduit seed`: realistic demo data for demos and benchmarks.
//!
//! Users follow each other, write articles (one in ten stays a draft) with one
//! to four of fifty tags, comment and favorite. Rows go in with multi-row inserts.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::{article, article_tag, comment, favorite, follow, tag, user};
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, NotSet, QueryFilter, QuerySelect, Set,
};

use crate::auth::Passwords;
use crate::error::Result;
use crate::service::fields::slugify;

const BATCH: usize = 500;

const TAGS: [&str; 50] = [
    "rust",
    "graphql",
    "databases",
    "postgres",
    "sqlite",
    "mysql",
    "redis",
    "caching",
    "security",
    "testing",
    "devops",
    "cloud",
    "kubernetes",
    "linux",
    "networking",
    "performance",
    "async",
    "web",
    "frontend",
    "react",
    "design",
    "ux",
    "career",
    "productivity",
    "open-source",
    "ai",
    "machine-learning",
    "data",
    "analytics",
    "mobile",
    "ios",
    "android",
    "gaming",
    "music",
    "travel",
    "food",
    "photography",
    "writing",
    "books",
    "science",
    "space",
    "climate",
    "health",
    "fitness",
    "startups",
    "finance",
    "history",
    "education",
    "art",
    "culture",
];

const NAMES: [&str; 24] = [
    "ada",
    "alan",
    "grace",
    "linus",
    "margaret",
    "ken",
    "dennis",
    "barbara",
    "edsger",
    "donald",
    "frances",
    "john",
    "radia",
    "tim",
    "vint",
    "anita",
    "guido",
    "yukihiro",
    "bjarne",
    "james",
    "sophie",
    "hedy",
    "katherine",
    "niklaus",
];

const WORDS: [&str; 48] = [
    "building",
    "scalable",
    "systems",
    "with",
    "simple",
    "tools",
    "lessons",
    "from",
    "production",
    "a",
    "guide",
    "to",
    "understanding",
    "modern",
    "databases",
    "why",
    "caching",
    "matters",
    "the",
    "art",
    "of",
    "debugging",
    "notes",
    "on",
    "distributed",
    "consensus",
    "fast",
    "reliable",
    "services",
    "in",
    "practice",
    "thinking",
    "about",
    "type",
    "safety",
    "and",
    "errors",
    "designing",
    "APIs",
    "people",
    "love",
    "small",
    "teams",
    "big",
    "ideas",
    "what",
    "I",
    "learned",
];

/// What to create.
#[derive(Clone, Debug)]
pub struct SeedPlan {
    /// Users to create.
    pub users: u64,
    /// Articles to create.
    pub articles: u64,
    /// Average comments per article.
    pub comments_per_article: u64,
    /// Password of every seeded user.
    pub password: String,
}

fn sentence(rng: &mut impl Rng, words: usize) -> String {
    let mut text: Vec<&str> = (0..words)
        .map(|_| *WORDS.choose(rng).unwrap_or(&"word"))
        .collect();
    text.dedup();
    let mut out = text.join(" ");
    if let Some(first) = out.get(0..1) {
        out = first.to_uppercase() + &out[1..];
    }
    out
}

/// Creates the planned rows and reports progress on the terminal.
pub async fn run(db: &DatabaseConnection, plan: &SeedPlan) -> Result<()> {
    let run_id: String = {
        let mut rng = rand::rng();
        (0..4)
            .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
            .collect()
    };
    let total = plan.users + plan.articles;
    let progress = ProgressBar::new(total);
    progress.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let hash = Passwords::new().await?.hash(plan.password.clone()).await?;
    let now = Utc::now();

    progress.set_message("users");
    let mut user_ids = Vec::new();
    for chunk_start in (0..plan.users).step_by(BATCH) {
        let chunk_end = (chunk_start + BATCH as u64).min(plan.users);
        let mut names = Vec::new();
        let rows: Vec<user::ActiveModel> = {
            let mut rng = rand::rng();
            (chunk_start..chunk_end)
                .map(|i| {
                    let name = format!(
                        "{}{}_{run_id}",
                        NAMES.choose(&mut rng).unwrap_or(&"user"),
                        i
                    );
                    names.push(name.clone());
                    let at = now - Duration::days(rng.random_range(30..400));
                    user::ActiveModel {
                        username: Set(name.clone()),
                        email: Set(format!("{name}@example.com")),
                        email_key: Set(format!("{name}@example.com")),
                        username_key: Set(name.to_lowercase()),
                        password_hash: Set(hash.clone()),
                        bio: Set(sentence(&mut rng, 10)),
                        image: Set(Some(format!(
                            "https://api.dicebear.com/9.x/initials/svg?seed={name}"
                        ))),
                        created_at: Set(at),
                        updated_at: Set(at),
                        ..Default::default()
                    }
                })
                .collect()
        };
        user::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
        let ids: Vec<i64> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Username.is_in(names))
            .into_tuple()
            .all(db)
            .await?;
        user_ids.extend(ids);
        progress.inc(chunk_end - chunk_start);
    }
    if user_ids.is_empty() {
        progress.finish_with_message("done");
        return Ok(());
    }

    let tag_ids = ensure_tags(db).await?;
    let tag_list: Vec<i64> = tag_ids.values().copied().collect();

    let follows: Vec<follow::ActiveModel> = {
        let mut rng = rand::rng();
        let mut rows = Vec::new();
        for &follower in &user_ids {
            let mut followees: Vec<i64> = user_ids
                .choose_multiple(&mut rng, 10.min(user_ids.len()))
                .copied()
                .collect();
            followees.retain(|&f| f != follower);
            rows.extend(followees.into_iter().map(|followee| follow::ActiveModel {
                follower_id: Set(follower),
                followee_id: Set(followee),
                created_at: Set(now),
            }));
        }
        rows
    };
    for chunk in follows.chunks(BATCH) {
        follow::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }

    progress.set_message("articles");
    for chunk_start in (0..plan.articles).step_by(BATCH) {
        let chunk_end = (chunk_start + BATCH as u64).min(plan.articles);
        let mut slugs = Vec::new();
        let rows: Vec<article::ActiveModel> = {
            let mut rng = rand::rng();
            (chunk_start..chunk_end)
                .map(|i| {
                    let words = rng.random_range(4..9);
                    let title = sentence(&mut rng, words);
                    let slug = format!("{}-{i}-{run_id}", slugify(&title));
                    slugs.push(slug.clone());
                    let at = now - Duration::minutes(rng.random_range(1..60 * 24 * 365));
                    let paragraphs = rng.random_range(3..8);
                    let body = (0..paragraphs)
                        .map(|_| sentence(&mut rng, 40) + ".")
                        .collect::<Vec<_>>()
                        .join("\n\n");
                    article::ActiveModel {
                        slug: Set(slug),
                        description: Set(sentence(&mut rng, 12)),
                        title: Set(title),
                        body: Set(body),
                        author_id: Set(*user_ids.choose(&mut rng).unwrap_or(&user_ids[0])),
                        published_at: Set((rng.random_range(0..10) != 0).then_some(at)),
                        created_at: Set(at),
                        updated_at: Set(at),
                        ..Default::default()
                    }
                })
                .collect()
        };
        article::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
        let article_ids: Vec<i64> = article::Entity::find()
            .select_only()
            .column(article::Column::Id)
            .filter(article::Column::Slug.is_in(slugs))
            .into_tuple()
            .all(db)
            .await?;
        insert_article_extras(
            db,
            &article_ids,
            &user_ids,
            &tag_list,
            plan.comments_per_article,
        )
        .await?;
        progress.inc(chunk_end - chunk_start);
    }
    // The rows went in around the services: count them once, at the end.
    progress.set_message("counts");
    crate::service::counts::recount_all(db).await?;
    progress.finish_with_message("done");
    Ok(())
}

async fn ensure_tags(db: &DatabaseConnection) -> Result<HashMap<String, i64>> {
    let existing: Vec<tag::Model> = tag::Entity::find()
        .filter(tag::Column::Name.is_in(TAGS))
        .all(db)
        .await?;
    let missing: Vec<tag::ActiveModel> = TAGS
        .iter()
        .filter(|name| !existing.iter().any(|t| t.name == **name))
        .map(|name| tag::ActiveModel {
            name: Set((*name).to_owned()),
            ..Default::default()
        })
        .collect();
    if !missing.is_empty() {
        tag::Entity::insert_many(missing)
            .exec_without_returning(db)
            .await?;
    }
    let all = tag::Entity::find()
        .filter(tag::Column::Name.is_in(TAGS))
        .all(db)
        .await?;
    Ok(all.into_iter().map(|t| (t.name, t.id)).collect())
}

async fn insert_article_extras(
    db: &DatabaseConnection,
    article_ids: &[i64],
    user_ids: &[i64],
    tag_ids: &[i64],
    comments_per_article: u64,
) -> Result<()> {
    let now = Utc::now();
    let (links, comments, favorites) = {
        let mut rng = rand::rng();
        let mut links = Vec::new();
        let mut comments = Vec::new();
        let mut favorites = Vec::new();
        for &article_id in article_ids {
            let mut tags: Vec<i64> = tag_ids.to_vec();
            tags.shuffle(&mut rng);
            for &tag_id in tags.iter().take(rng.random_range(1..5)) {
                // The article's time and publication are copied in by
                // `recount_all` once every row is in.
                links.push(article_tag::ActiveModel {
                    article_id: Set(article_id),
                    tag_id: Set(tag_id),
                    article_created_at: NotSet,
                    article_published: NotSet,
                });
            }
            for _ in 0..rng.random_range(0..=comments_per_article * 2) {
                let at = now - Duration::minutes(rng.random_range(1..60 * 24 * 30));
                comments.push(comment::ActiveModel {
                    article_id: Set(article_id),
                    author_id: Set(*user_ids.choose(&mut rng).unwrap_or(&user_ids[0])),
                    body: Set(sentence(&mut rng, 20)),
                    created_at: Set(at),
                    updated_at: Set(at),
                    ..Default::default()
                });
            }
            let fans = rng.random_range(0..=10.min(user_ids.len()));
            for &user_id in user_ids.choose_multiple(&mut rng, fans) {
                favorites.push(favorite::ActiveModel {
                    user_id: Set(user_id),
                    article_id: Set(article_id),
                    created_at: Set(now),
                });
            }
        }
        (links, comments, favorites)
    };
    for chunk in links.chunks(BATCH) {
        article_tag::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    for chunk in comments.chunks(BATCH) {
        comment::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    for chunk in favorites.chunks(BATCH) {
        favorite::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}
