//! Charges each request's cost against the caller's budget before it runs,
//! and the `rateLimit` field that shows that budget.
//!
//! A read costs its document cost (see [`super::limits`]) divided by 100,
//! rounded up, and at least 1 point, as on GitHub's API; a mutation costs at
//! least `RATE_LIMIT_MUTATION_COST`. `login`, `register` and `updateViewer`
//! (which can check a password) also draw on a
//! stricter budget of sign-in attempts per client address.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Context, Object, ServerError, SimpleObject};
use chrono::{DateTime, Utc};

use crate::auth::Viewer;
use crate::config::Protection;
use crate::error::Error;
use crate::ratelimit::{Budget, Charge, RateLimiter};

/// Who a request is charged to, and where its charge is written for the
/// response headers and the `rateLimit` field. The HTTP layer puts one in
/// every request's data; a WebSocket connection puts one in its connection
/// data, so each operation on it is charged.
#[derive(Clone)]
pub struct RateLimitTicket {
    /// `user:<id>` for a signed-in caller, `ip:<address>` for an anonymous one.
    pub subject: String,
    /// The client's address, for the sign-in budget.
    pub client: IpAddr,
    /// The charge made for this request, once made.
    pub charge: Arc<Mutex<Option<Charge>>>,
}

impl RateLimitTicket {
    /// A ticket for `subject` calling from `client`.
    pub fn new(subject: String, client: IpAddr) -> Self {
        Self {
            subject,
            client,
            charge: Arc::default(),
        }
    }

    /// The ticket for `viewer` calling from `client`, when rate limiting is
    /// on (`enabled`): charged to the user when signed in, else to the address.
    pub fn for_caller(enabled: bool, viewer: &Viewer, client: IpAddr) -> Option<Self> {
        if !enabled {
            return None;
        }
        let subject = match viewer.user_id() {
            Some(id) => ["user:", itoa::Buffer::new().format(id)].concat(),
            None => address_subject(client),
        };
        Some(Self::new(subject, client))
    }

    /// The charge made for this request.
    pub fn charge(&self) -> Option<Charge> {
        self.charge
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// `ip:<address>`, written without the formatting machinery for IPv4 (made
/// for every anonymous request).
fn address_subject(client: IpAddr) -> String {
    let IpAddr::V4(v4) = client else {
        return format!("ip:{client}");
    };
    let mut subject = String::with_capacity("ip:255.255.255.255".len());
    subject.push_str("ip:");
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            subject.push('.');
        }
        subject.push_str(itoa::Buffer::new().format(octet));
    }
    subject
}

/// In a request's data: the caller was charged for it before it ran (its
/// cached answer turned out to be out of date), so admission does not charge
/// it again.
#[derive(Clone, Copy, Debug)]
pub struct Prepaid;

/// The budgets requests are charged against.
#[derive(Clone, Copy, Debug)]
pub struct Budgets {
    api: Budget,
    sign_in: Budget,
    mutation_cost: u64,
}

impl Budgets {
    /// The budgets in `protection`.
    pub fn from_protection(protection: &Protection) -> Self {
        Self {
            api: Budget {
                points: protection.rate_limit_points,
                window_secs: protection.rate_limit_window_secs,
            },
            sign_in: Budget {
                points: protection.auth_rate_limit_attempts,
                window_secs: protection.auth_rate_limit_window_secs,
            },
            mutation_cost: protection.rate_limit_mutation_cost,
        }
    }
}

/// Charges a parsed request before it runs: its sign-ins against the caller's
/// address, then its cost against the caller's budget, recording the charge in
/// `ticket`. `measured_cost` is the document cost the limits measured. The
/// RATE_LIMITED error when a budget cannot pay.
pub async fn charge_request(
    limiter: &RateLimiter,
    budgets: Budgets,
    ticket: &RateLimitTicket,
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    measured_cost: u64,
) -> Result<(), ServerError> {
    let sign_ins = sign_in_fields(document, operation);
    if sign_ins > 0 {
        let subject = format!("ip:{}", ticket.client);
        let charge = limiter
            .charge("sign-in", &subject, sign_ins, budgets.sign_in)
            .await;
        if !charge.allowed {
            return Err(refusal(&charge));
        }
    }
    let mutation = operation.ty == OperationType::Mutation;
    let cost = request_cost(measured_cost, mutation, budgets.mutation_cost);
    charge_cost(limiter, budgets, ticket, cost).await
}

/// The error of a request its budget cannot pay for.
fn refusal(charge: &Charge) -> ServerError {
    let error = Error::RateLimited {
        cost: charge.cost,
        remaining: charge.remaining(),
        retry_after_secs: charge.retry_after_secs(Utc::now()),
    };
    error.into_request_error()
}

/// Charges `cost` points to the caller's budget, recording the charge in its
/// ticket; the RATE_LIMITED error when the budget cannot pay. A request
/// answered without running (a cached response) is charged the cost it had
/// when it ran.
pub async fn charge_cost(
    limiter: &RateLimiter,
    budgets: Budgets,
    ticket: &RateLimitTicket,
    cost: u64,
) -> Result<(), ServerError> {
    let charge = limiter
        .charge("api", &ticket.subject, cost, budgets.api)
        .await;
    let refused = (!charge.allowed).then(|| refusal(&charge));
    *ticket
        .charge
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(charge);
    refused.map_or(Ok(()), Err)
}

/// Charges `cost` points to the budget of the address `client`, for work done
/// before the caller is known (verifying a token it sent); RATE_LIMITED when
/// that budget cannot pay, and the work is then not done.
pub async fn charge_address(
    limiter: &RateLimiter,
    budgets: Budgets,
    client: IpAddr,
    cost: u64,
) -> Result<(), Error> {
    let charge = limiter
        .charge("api", &address_subject(client), cost, budgets.api)
        .await;
    if charge.allowed {
        return Ok(());
    }
    Err(Error::RateLimited {
        cost: charge.cost,
        remaining: charge.remaining(),
        retry_after_secs: charge.retry_after_secs(Utc::now()),
    })
}

/// Points a request costs: its document cost / 100 rounded up, at least 1;
/// a mutation at least `mutation_cost`.
pub fn request_cost(document_cost: u64, mutation: bool, mutation_cost: u64) -> u64 {
    let read = document_cost.div_ceil(100).max(1);
    if mutation {
        read.max(mutation_cost)
    } else {
        read
    }
}

/// The operation a request runs: the one named, or the only one.
pub fn selected_operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        _ => None,
    }
}

/// How many `login` and `register` fields a mutation selects at its root.
fn sign_in_fields(document: &ExecutableDocument, operation: &OperationDefinition) -> u64 {
    if operation.ty != OperationType::Mutation {
        return 0;
    }
    let mut seen = HashSet::new();
    count_sign_ins(document, &operation.selection_set.node, &mut seen)
}

fn count_sign_ins<'d>(
    document: &'d ExecutableDocument,
    set: &'d SelectionSet,
    seen: &mut HashSet<&'d str>,
) -> u64 {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => u64::from(matches!(
                field.node.name.node.as_str(),
                "login" | "register" | "updateViewer"
            )),
            Selection::InlineFragment(fragment) => {
                count_sign_ins(document, &fragment.node.selection_set.node, seen)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                match document.fragments.get(name) {
                    Some(fragment) if seen.insert(name) => {
                        count_sign_ins(document, &fragment.node.selection_set.node, seen)
                    }
                    _ => 0,
                }
            }
        })
        .sum()
}

/// The caller's rate-limit budget after this request.
#[derive(SimpleObject)]
pub struct RateLimit {
    /// Points this request cost.
    pub cost: u64,
    /// Points per window.
    pub limit: u64,
    /// Points left in this window.
    pub remaining: u64,
    /// Points used in this window, this request included.
    pub used: u64,
    /// When the window ends and the budget is full again.
    pub reset_at: DateTime<Utc>,
}

/// The `rateLimit` root field.
#[derive(Default)]
pub struct RateLimitQuery;

#[Object]
impl RateLimitQuery {
    /// The caller's rate-limit budget, with this request already charged.
    /// Requests cost their document cost / 100 (at least 1 point); mutations
    /// cost more. Null when rate limiting is switched off.
    async fn rate_limit(&self, ctx: &Context<'_>) -> Option<RateLimit> {
        super::response_cache::mark_private(ctx);
        let charge = ctx.data_opt::<RateLimitTicket>()?.charge()?;
        Some(RateLimit {
            cost: charge.cost,
            limit: charge.limit,
            remaining: charge.remaining(),
            used: charge.used,
            reset_at: charge.reset_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_callers_are_charged_by_their_address_as_written() {
        for address in [
            "127.0.0.1",
            "10.20.0.255",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "2001:db8::7",
        ] {
            let client: IpAddr = address.parse().expect("address");
            assert_eq!(address_subject(client), format!("ip:{address}"));
        }
        let ticket =
            RateLimitTicket::for_caller(true, &Viewer::Anonymous, [192, 168, 1, 20].into());
        assert_eq!(ticket.expect("on").subject, "ip:192.168.1.20");
        assert!(
            RateLimitTicket::for_caller(false, &Viewer::Anonymous, [192, 168, 1, 20].into())
                .is_none()
        );
    }

    #[test]
    fn reads_cost_a_hundredth_of_their_document_and_mutations_more() {
        assert_eq!(request_cost(1, false, 10), 1);
        assert_eq!(request_cost(100, false, 10), 1);
        assert_eq!(request_cost(101, false, 10), 2);
        assert_eq!(request_cost(5, true, 10), 10);
        assert_eq!(request_cost(2_000, true, 10), 20);
    }

    #[test]
    fn sign_ins_are_counted_at_the_root_of_mutations_only() {
        let document = async_graphql::parser::parse_query(
            "mutation { a: login(input: {}) { token } ...F ... on Mutation { register(input: {}) { token } } }
             fragment F on Mutation { login(input: {}) { token } ...F }",
        )
        .expect("parses");
        let operation = selected_operation(&document, None).expect("one operation");
        assert_eq!(sign_in_fields(&document, operation), 3);
        let query = async_graphql::parser::parse_query("{ login }").expect("parses");
        let operation = selected_operation(&query, None).expect("one operation");
        assert_eq!(sign_in_fields(&query, operation), 0);
    }
}
