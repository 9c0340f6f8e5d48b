//! Who is calling: the bearer token of a request, or of a WebSocket's
//! `connection_init`, verified once into a [`Viewer`].
//!
//! A token the server has not verified lately costs a signature check per
//! block and the Datalog its holder appended. That work is charged to the
//! caller's address before it is done, so a caller sending fresh tokens
//! spends its own budget; a token verified lately (and its refusal) is
//! remembered and costs nothing more.

use std::net::IpAddr;

use crate::auth::Viewer;
use crate::auth::token::verification_cost;
use crate::auth::viewer::bearer_token;
use crate::error::Result;
use crate::graphql::rate_limit::{Budgets, charge_address};
use crate::state::AppState;

/// The viewer an `Authorization` value names, charging the verification of a
/// token not verified lately to `client`'s address when rate limits are on.
/// UNAUTHENTICATED for a bad token, RATE_LIMITED when the address cannot pay.
pub async fn authenticate(
    app: &AppState,
    authorization: Option<&str>,
    client: IpAddr,
) -> Result<Viewer> {
    if let Some(token) = bearer_token(authorization)?
        && app.config.protection.rate_limit_enabled
        && !app.tokens.remembers(token)
    {
        let budgets = Budgets::from_protection(&app.config.protection);
        charge_address(&app.rate_limits, budgets, client, verification_cost(token)).await?;
    }
    Viewer::from_authorization(&app.tokens, &app.access, authorization)
}
