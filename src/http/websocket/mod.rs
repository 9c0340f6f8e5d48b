//! GraphQL subscriptions over WebSocket (`graphql-transport-ws` and the legacy
//! `graphql-ws`), with the token watched for the life of the connection.
//!
//! The token comes in `connection_init` (or the upgrade request's
//! `Authorization` header). A bad token closes the socket with 4403; so does a
//! token that expires, is revoked, or whose account is banned while the socket
//! is open, within a second.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{
    ALL_WEBSOCKET_PROTOCOLS, WebSocket as GraphQLStream, WebSocketProtocols, WsMessage,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{FromRequestParts, Request, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::{SinkExt, StreamExt};

use super::HttpState;
use crate::auth::{Session, Viewer};
use crate::graphql::ConduitSchema;
use crate::state::AppState;

/// Close code for a token that is refused, expired or revoked.
pub const CLOSE_FORBIDDEN: u16 = 4403;

/// How often an open connection re-checks its token.
const TOKEN_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The token a `connection_init` payload carries: `Authorization` (any case),
/// `authToken` or `token`; a bare token gets the `Bearer` scheme.
pub fn init_authorization(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    let value = object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v)
        .or_else(|| object.get("authToken"))
        .or_else(|| object.get("token"))?
        .as_str()?;
    if value.contains(' ') {
        Some(value.to_owned())
    } else {
        Some(format!("Bearer {value}"))
    }
}

/// The open connections, counted per client address.
#[derive(Clone, Default)]
pub struct Registry {
    #[allow(dead_code)] // counted once the per-client cap is enforced
    per_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// Upgrades a `GET /graphql` that asks for a WebSocket with one of the GraphQL
/// subprotocols, and serves it.
pub async fn upgrade(state: HttpState, request: Request, _client: IpAddr) -> Response {
    let (mut parts, _) = request.into_parts();
    let protocol = parts
        .headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|list| {
            list.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        let message = "use the graphql-transport-ws or graphql-ws subprotocol";
        return (StatusCode::BAD_REQUEST, message).into_response();
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let header_token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, state.app, state.schema, protocol, header_token))
}

/// What the connection learned at `connection_init`.
#[derive(Default)]
struct Connection {
    session: Option<Session>,
    refused: bool,
}

/// Whether a session may go on: not expired, not revoked, account not banned.
fn still_valid(app: &AppState, session: &Session) -> Result<(), String> {
    if session.expires_at <= Utc::now() {
        return Err("the token has expired".into());
    }
    app.access
        .admit(session.clone())
        .map(|_| ())
        .map_err(|err| err.to_string())
}

/// Serves one upgraded connection until either side closes it.
pub async fn serve(
    socket: WebSocket,
    app: AppState,
    schema: ConduitSchema,
    protocol: WebSocketProtocols,
    header_token: Option<String>,
) {
    let connection = Arc::new(Mutex::new(Connection::default()));
    let (mut sink, source) = socket.split();
    let incoming = source
        .take_while(|message| {
            std::future::ready(!matches!(message, Err(_) | Ok(Message::Close(_))))
        })
        .filter_map(|message| async move {
            match message {
                Ok(Message::Text(text)) => Some(text.as_str().as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            }
        });
    let init_app = app.clone();
    let init_connection = connection.clone();
    let incoming = Box::pin(incoming);
    let mut outgoing = GraphQLStream::new(schema, incoming, protocol)
        .on_connection_init(move |payload| async move {
            let authorization = init_authorization(&payload).or(header_token);
            let verified = Viewer::from_authorization(
                &init_app.tokens,
                &init_app.access,
                authorization.as_deref(),
            );
            let mut state = init_connection
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match verified {
                Ok(viewer) => {
                    state.session = viewer.session().cloned();
                    let mut data = Data::default();
                    data.insert(viewer);
                    Ok(data)
                }
                Err(err) => {
                    state.refused = true;
                    Err(err.into())
                }
            }
        })
        .keepalive_timeout(Duration::from_secs(30));
    let mut ticker = tokio::time::interval(TOKEN_CHECK_INTERVAL);
    loop {
        tokio::select! {
            message = outgoing.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if sink.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    let refused = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner).refused;
                    let code = if refused { CLOSE_FORBIDDEN } else { code };
                    let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                    break;
                }
                None => break,
            },
            _ = ticker.tick() => {
                let session = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner).session.clone();
                if let Some(session) = session
                    && let Err(reason) = still_valid(&app, &session)
                {
                    tracing::info!(user_id = session.user_id, %reason, "closing a subscription connection");
                    let frame = CloseFrame { code: CLOSE_FORBIDDEN, reason: reason.into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_payloads_name_tokens_in_several_ways() {
        let bearer = Some("Bearer abc".to_owned());
        assert_eq!(
            init_authorization(&serde_json::json!({"Authorization": "Bearer abc"})),
            bearer
        );
        assert_eq!(
            init_authorization(&serde_json::json!({"authorization": "Bearer abc"})),
            bearer
        );
        assert_eq!(
            init_authorization(&serde_json::json!({"authToken": "abc"})),
            bearer
        );
        assert_eq!(init_authorization(&serde_json::json!({})), None);
        assert_eq!(init_authorization(&serde_json::Value::Null), None);
    }
}
