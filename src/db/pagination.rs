//! Keyset pagination shared by every list: opaque cursors over `(timestamp, id)`.
//!
//! A cursor names a position in the ordering, not an offset, so it stays valid
//! when rows are inserted before or after it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, IntoColumnRef, IntoCondition, Query, SelectStatement,
    WindowStatement,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Iterable, Order,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Select, Statement, Value,
};

use super::IdMap;
use super::columns::Columns;
use crate::error::{Error, FieldError, Result};

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;
/// The page size when the client names none.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

const CURSOR_VERSION: &str = "k1";

/// Which way a list is sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortDirection {
    /// Oldest first.
    Asc,
    /// Newest first.
    #[default]
    Desc,
}

/// A position in a list sorted by `(at, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    /// The sort timestamp of the row.
    pub at: DateTime<Utc>,
    /// The row's id, which breaks ties.
    pub id: i64,
}

impl Cursor {
    /// The opaque string clients see.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{CURSOR_VERSION}:{}:{}",
            self.at.timestamp_micros(),
            self.id
        ))
    }

    /// Reads a cursor produced by [`Cursor::encode`].
    pub fn decode(text: &str) -> Result<Self, String> {
        let malformed = || "is not a cursor this API produced".to_owned();
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| malformed())?;
        let text = String::from_utf8(bytes).map_err(|_| malformed())?;
        let mut parts = text.split(':');
        let (Some(CURSOR_VERSION), Some(micros), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let micros: i64 = micros.parse().map_err(|_| malformed())?;
        let id: i64 = id.parse().map_err(|_| malformed())?;
        let at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(malformed)?;
        Ok(Self { at, id })
    }
}

/// A validated request for one page: `first`/`after` forwards or `last`/`before` backwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// How many rows to return.
    pub size: u64,
    /// Return rows after this position.
    pub after: Option<Cursor>,
    /// Return rows before this position.
    pub before: Option<Cursor>,
    /// Whether the page is counted back from `before` (or from the end).
    pub backward: bool,
    /// The order of the list.
    pub direction: SortDirection,
}

impl PageRequest {
    /// Validates Relay connection arguments: `first` and `last` between 1 and
    /// [`MAX_PAGE_SIZE`], not both, and cursors this API produced. Reports every
    /// offending argument at once.
    pub fn new(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
        direction: SortDirection,
    ) -> Result<Self> {
        let mut errors = Vec::new();
        let mut size_of = |name: &str, value: Option<i32>| match value {
            Some(n) if !(1..=MAX_PAGE_SIZE).contains(&n) => {
                errors.push(FieldError {
                    field: name.into(),
                    message: format!("must be between 1 and {MAX_PAGE_SIZE}, got {n}"),
                });
                None
            }
            other => other,
        };
        let first = size_of("first", first);
        let last = size_of("last", last);
        if first.is_some() && last.is_some() {
            errors.push(FieldError {
                field: "last".into(),
                message: "cannot be combined with first".into(),
            });
        }
        let mut cursor_of = |name: &str, value: Option<&str>| {
            value.and_then(|text| match Cursor::decode(text) {
                Ok(cursor) => Some(cursor),
                Err(message) => {
                    errors.push(FieldError {
                        field: name.into(),
                        message,
                    });
                    None
                }
            })
        };
        let after = cursor_of("after", after);
        let before = cursor_of("before", before);
        if !errors.is_empty() {
            return Err(Error::InvalidInput(errors));
        }
        let backward = last.is_some();
        let size = last.or(first).unwrap_or(DEFAULT_PAGE_SIZE);
        Ok(Self {
            size: u64::try_from(size).unwrap_or(20),
            after,
            before,
            backward,
            direction,
        })
    }

    /// A string naming this page exactly, for cache keys.
    pub fn cache_key(&self) -> String {
        let cursor = |c: &Option<Cursor>| c.map_or_else(String::new, |c| c.encode());
        format!(
            "{}:{}:{}:{}:{:?}",
            self.size,
            cursor(&self.after),
            cursor(&self.before),
            self.backward,
            self.direction
        )
    }

    /// The first page of `size` rows in `direction`.
    pub fn first(size: u64, direction: SortDirection) -> Self {
        Self {
            size,
            after: None,
            before: None,
            backward: false,
            direction,
        }
    }
}

/// One page of rows in list order.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Whether rows follow the last one.
    pub has_next_page: bool,
    /// Whether rows precede the first one.
    pub has_previous_page: bool,
}

impl<T> Page<T> {
    /// Converts every row, keeping the page boundaries.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
        }
    }
}

/// Rows strictly beyond `cursor` in the given order.
fn beyond<C: ColumnTrait>(at: C, id: C, cursor: &Cursor, ascending: bool) -> Condition {
    if ascending {
        Condition::any()
            .add(at.gt(cursor.at))
            .add(at.eq(cursor.at).and(id.gt(cursor.id)))
    } else {
        Condition::any()
            .add(at.lt(cursor.at))
            .add(at.eq(cursor.at).and(id.lt(cursor.id)))
    }
}

/// A model that page queries read back by column position.
///
/// A page query selects all of its entity's columns in their declared order,
/// as `Entity::find()` does, and a page of 20 articles has 180 of them:
/// looking each up by name cost more than decoding it.
pub trait PageRow: Sized {
    /// The model whose columns fill `row`, in declared order.
    fn from_columns(row: &Columns<'_>) -> Result<Self, DbErr>;
}

/// Runs `select` as one page of `request`, ordered by `(at, id)`. One
/// statement. `select` must select the entity's columns only, in declared
/// order ([`PageRow`]).
pub async fn fetch_page<E, C, O>(
    db: &C,
    select: Select<E>,
    at: O,
    id: O,
    request: &PageRequest,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: PageRow,
    C: ConnectionTrait,
    O: ColumnTrait,
{
    let statement = page_statement(db.get_database_backend(), select, at, id, request);
    let rows = db.query_all_raw(statement).await?;
    let on_page = rows[..request.rows_on_page(rows.len())]
        .iter()
        .map(|row| E::Model::from_columns(&Columns::new(row)))
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(request.page_of_first(on_page, rows.len()))
}

/// The statement that reads one page of `request` from `select`: one row more
/// than the page holds (to tell whether more follow), in
/// [`PageRequest::read_order`] by `(at, id)`: columns of the entity, or
/// copies of them in a table `select` joins.
pub fn page_statement<E: EntityTrait, O: ColumnTrait>(
    backend: DatabaseBackend,
    select: Select<E>,
    at: O,
    id: O,
    request: &PageRequest,
) -> Statement {
    let select = between_cursors(select, at, id, request);
    let order = request.read_order();
    let limit = request.size + 1;
    let select = select
        .order_by(at, order.clone())
        .order_by(id, order)
        .limit(limit);
    with_literal_limit(select.build(backend), limit)
}

/// `select` narrowed to the rows between the cursors of `request`.
fn between_cursors<E: EntityTrait, O: ColumnTrait>(
    mut select: Select<E>,
    at: O,
    id: O,
    request: &PageRequest,
) -> Select<E> {
    let ascending = request.direction == SortDirection::Asc;
    if let Some(after) = &request.after {
        select = select.filter(beyond(at, id, after, ascending).into_condition());
    }
    if let Some(before) = &request.before {
        select = select.filter(beyond(at, id, before, !ascending).into_condition());
    }
    select
}

/// The name the page of each parent is told apart by in
/// [`pages_per_parent`]'s statement.
const PAGE_PARENT: &str = "page_parent";
/// The position of a row in its parent's page, from 1.
const PAGE_ROW: &str = "page_row";

/// One page of `request` for each of `parents` from `select`, in one
/// statement: the rows of every parent (the column `parent` holds which)
/// numbered in read order per parent, and of each, one more than the page
/// holds. `select` must select the entity's columns only, in declared order
/// ([`PageRow`]). Every parent has a page in the answer, empty when it has
/// no rows.
///
/// Window functions (`ROW_NUMBER() OVER (PARTITION BY ...)`) are on every
/// backend this runs on: PostgreSQL, MySQL 8 and MariaDB 10.2, SQLite 3.25.
pub async fn pages_per_parent<E, C>(
    db: &C,
    select: Select<E>,
    parent: impl IntoColumnRef + Clone,
    parents: &[i64],
    (at, id): (E::Column, E::Column),
    request: &PageRequest,
) -> Result<IdMap<Page<E::Model>>>
where
    E: EntityTrait,
    E::Model: PageRow,
    C: ConnectionTrait,
{
    let backend = db.get_database_backend();
    let statement = backend.build(&per_parent_statement(
        select,
        parent,
        parents,
        (at, id),
        request,
    ));
    let rows = db.query_all_raw(statement).await?;
    let width = E::Column::iter().count();
    pages_of_parents(&rows, width, parents, request, E::Model::from_columns)
}

/// The pages of `parents` in `rows`, read by a statement made with
/// [`per_parent_statement`], whose parent column is column `width` (right
/// after the entity's own); `decode` reads each row on a page.
pub fn pages_of_parents<T>(
    rows: &[QueryResult],
    width: usize,
    parents: &[i64],
    request: &PageRequest,
    mut decode: impl FnMut(&Columns<'_>) -> Result<T, DbErr>,
) -> Result<IdMap<Page<T>>> {
    let page_size = request.rows_on_page(usize::MAX);
    let mut read: IdMap<(Vec<T>, usize)> = IdMap::default();
    for row in rows {
        let row = Columns::new(row);
        let (items, count) = read
            .entry(row.get::<i64>(width)?)
            .or_insert_with(|| (Vec::new(), 0));
        *count += 1;
        // The row past a page only tells that more follow.
        if *count <= page_size {
            items.push(decode(&row)?);
        }
    }
    let mut pages = IdMap::with_capacity_and_hasher(parents.len(), Default::default());
    for parent in parents {
        // A parent named twice keeps the page it was given first.
        if !pages.contains_key(parent) {
            let (items, count) = read.remove(parent).unwrap_or_else(|| (Vec::new(), 0));
            pages.insert(*parent, request.page_of_first(items, count));
        }
    }
    Ok(pages)
}

/// The statement [`pages_per_parent`] runs: `select` narrowed to `parents`
/// and the request's cursors, each row with its parent (column
/// `page_parent`) and its place in its parent's list in read order
/// (`page_row`), up to one row past each parent's page, parent by parent.
pub fn per_parent_statement<E: EntityTrait>(
    select: Select<E>,
    parent: impl IntoColumnRef + Clone,
    parents: &[i64],
    (at, id): (E::Column, E::Column),
    request: &PageRequest,
) -> SelectStatement {
    let order = request.read_order();
    let mut inner = between_cursors(select, at, id, request)
        .filter(Expr::col(parent.clone()).is_in(parents.iter().copied()))
        .into_query();
    let mut window = WindowStatement::partition_by(parent.clone());
    window
        .order_by((E::default(), at), order.clone())
        .order_by((E::default(), id), order);
    inner
        .expr_as(Expr::col(parent), Alias::new(PAGE_PARENT))
        .expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new(PAGE_ROW));
    let limit = i64::try_from(request.size + 1).unwrap_or(i64::MAX);
    let ranked = Alias::new(RANKED);
    Query::select()
        .column((ranked.clone(), Asterisk))
        .from_subquery(inner, ranked.clone())
        .and_where(Expr::col((ranked.clone(), Alias::new(PAGE_ROW))).lte(limit))
        .order_by((ranked.clone(), Alias::new(PAGE_PARENT)), Order::Asc)
        .order_by((ranked, Alias::new(PAGE_ROW)), Order::Asc)
        .to_owned()
}

/// The name of the derived table [`per_parent_statement`] reads its rows
/// from, for columns joined to them.
pub const RANKED: &str = "ranked";

impl PageRequest {
    /// The order the page's statement reads rows in: the list's order, or
    /// its reverse when paging backward.
    pub fn read_order(&self) -> Order {
        let ascending = self.direction == SortDirection::Asc;
        if ascending != self.backward {
            Order::Asc
        } else {
            Order::Desc
        }
    }

    /// How many of the `read` rows [`page_statement`] read are on the page;
    /// one more only tells that the list goes on, and need not be decoded.
    pub fn rows_on_page(&self, read: usize) -> usize {
        read.min(usize::try_from(self.size).unwrap_or(usize::MAX))
    }

    /// The page made of `rows`, the first of the `read` rows
    /// [`page_statement`] read.
    pub fn page_of_first<T>(&self, mut rows: Vec<T>, read: usize) -> Page<T> {
        let more = read as u64 > self.size;
        rows.truncate(usize::try_from(self.size).unwrap_or(usize::MAX));
        if self.backward {
            rows.reverse();
            Page {
                items: rows,
                has_next_page: self.before.is_some(),
                has_previous_page: more,
            }
        } else {
            Page {
                items: rows,
                has_next_page: more,
                has_previous_page: self.after.is_some(),
            }
        }
    }
}

/// `statement` with its trailing `LIMIT` written into the SQL instead of bound
/// as a parameter, when it ends with one bound to `limit`.
///
/// PostgreSQL plans a prepared statement once for all parameters only when
/// that plan is about as cheap as one made for the values at hand. With the
/// row count unknown it estimates a tenth of the table, so a page query never
/// qualified and was planned afresh on every execution. Page sizes are few, so
/// each stays one prepared statement.
fn with_literal_limit(mut statement: Statement, limit: u64) -> Statement {
    let Some(values) = statement.values.as_mut() else {
        return statement;
    };
    let placeholder = match statement.db_backend {
        DatabaseBackend::Postgres => format!("${}", values.0.len()),
        _ => "?".to_owned(),
    };
    let bound = format!(" LIMIT {placeholder}");
    if statement.sql.ends_with(&bound) && values.0.last() == Some(&Value::from(limit)) {
        values.0.pop();
        let keep = statement.sql.len() - bound.len();
        statement.sql.truncate(keep);
        statement.sql.push_str(&format!(" LIMIT {limit}"));
    }
    statement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_limit_is_written_into_the_sql() {
        for backend in [
            DatabaseBackend::Postgres,
            DatabaseBackend::MySql,
            DatabaseBackend::Sqlite,
        ] {
            let select = entity::article::Entity::find()
                .filter(entity::article::Column::AuthorId.eq(7))
                .limit(21);
            let statement = with_literal_limit(select.build(backend), 21);
            assert!(statement.sql.ends_with(" LIMIT 21"), "{}", statement.sql);
            let values = statement.values.expect("values").0;
            assert_eq!(values, vec![Value::from(7)], "{backend:?}");
        }
        // Anything else is left as it was.
        let select = entity::article::Entity::find().limit(21);
        let statement = with_literal_limit(select.build(DatabaseBackend::Postgres), 22);
        assert!(statement.sql.ends_with(" LIMIT $1"), "{}", statement.sql);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            at: DateTime::<Utc>::from_timestamp_micros(1_700_000_000_123_456).expect("time"),
            id: 42,
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        assert!(Cursor::decode("not-a-cursor").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("k1:abc:1")).is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("k1:1:2:3")).is_err());
    }

    #[test]
    fn page_sizes_outside_one_to_a_hundred_are_refused_together() {
        let err = PageRequest::new(Some(0), Some("junk"), None, None, SortDirection::Desc)
            .expect_err("invalid");
        let Error::InvalidInput(fields) = err else {
            panic!("wrong error")
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["first", "after"]);
        assert!(PageRequest::new(Some(1000), None, None, None, SortDirection::Desc).is_err());
        assert!(PageRequest::new(Some(5), None, Some(5), None, SortDirection::Desc).is_err());
    }

    #[test]
    fn the_row_past_a_page_only_tells_that_the_list_goes_on() {
        let forward = PageRequest::first(3, SortDirection::Desc);
        assert_eq!(forward.rows_on_page(4), 3);
        assert_eq!(forward.rows_on_page(2), 2);
        let page = forward.page_of_first(vec![1, 2, 3], 4);
        assert_eq!(page.items, [1, 2, 3]);
        assert!(page.has_next_page && !page.has_previous_page);
        let page = forward.page_of_first(vec![1, 2], 2);
        assert!(!page.has_next_page);

        let backward =
            PageRequest::new(None, None, Some(3), None, SortDirection::Asc).expect("last 3");
        let page = backward.page_of_first(vec![9, 8, 7], 4);
        assert_eq!(
            page.items,
            [7, 8, 9],
            "read newest first, shown oldest first"
        );
        assert!(page.has_previous_page && !page.has_next_page);
    }

    #[test]
    fn no_size_means_the_default_page_forwards() {
        let request = PageRequest::new(None, None, None, None, SortDirection::Desc).expect("valid");
        assert_eq!(request.size, DEFAULT_PAGE_SIZE as u64);
        assert!(!request.backward);
        let request =
            PageRequest::new(None, None, Some(100), None, SortDirection::Asc).expect("valid");
        assert_eq!(request.size, 100);
        assert!(request.backward);
    }
}
