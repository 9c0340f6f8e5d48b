//! What every request passes before it runs, over HTTP and WebSocket alike:
//! the document limits, the introspection switch and the rate-limit charge;
//! and what follows a mutation: retiring the cached anonymous responses.
//!
//! [`GuardedSchema`] wraps the schema and does this around each execution. It
//! is not done with schema extensions because any extension sends every
//! resolved field through a chain of extra futures, which cost a tenth of the
//! CPU of an uncached home page for hooks that run once per request.

use std::any::{Any, TypeId};
use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response, ServerError};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::ConduitSchema;
use super::introspection;
use super::limits::{DocumentLimits, measure};
use super::parsed_documents::ParsedDocuments;
use super::rate_limit::{Budgets, Prepaid, RateLimitTicket, charge_request, selected_operation};
use super::response_cache::ResponseScope;
use crate::error::Error;
use crate::state::AppState;

/// How much memory parsed documents may take, about.
const PARSED_DOCUMENTS_BYTES: u64 = 8 * 1024 * 1024;

/// The checks a request passes before it runs, as configured at start-up.
struct Admission {
    state: AppState,
    limits: DocumentLimits,
    budgets: Budgets,
    documents: ParsedDocuments,
}

/// What admission learned of a request it let through.
struct Admitted {
    mutation: bool,
}

impl Admission {
    /// Checks `request` and charges it to `ticket`'s caller. The parsed
    /// document is kept in the request, so it is parsed once. A document that
    /// does not parse is let through: execution reports the syntax error.
    async fn admit(
        &self,
        request: &mut Request,
        ticket: Option<&RateLimitTicket>,
    ) -> Result<Admitted, ServerError> {
        self.limits
            .check_tokens(&request.query)
            .map_err(Error::into_request_error)?;
        let Some(document) = self.documents.parse(&request.query) else {
            return Ok(Admitted { mutation: false });
        };
        let operation_name = request.operation_name.as_deref();
        let measured = measure(&document, operation_name, &request.variables);
        self.limits
            .check(&measured)
            .map_err(Error::into_request_error)?;
        let operation = selected_operation(&document, operation_name);
        let mutation = operation.is_some_and(|op| op.ty == OperationType::Mutation);
        // A document naming no runnable operation is left to validation, uncharged.
        if let (Some(ticket), Some(operation)) = (ticket, operation)
            && self.state.config.protection.rate_limit_enabled
            && find::<Prepaid>(&request.data).is_none()
        {
            charge_request(
                &self.state.rate_limits,
                self.budgets,
                ticket,
                &document,
                operation,
                measured.cost,
            )
            .await?;
        }
        if !self.state.config.introspection_enabled() && introspection::asks_for_schema(&document) {
            return Err(introspection::refusal());
        }
        if mutation && let Some(scope) = find::<Arc<ResponseScope>>(&request.data) {
            scope.mark_private();
        }
        request.set_parsed_query(document);
        Ok(Admitted { mutation })
    }

    /// After a mutation ran: whatever it changed, cached responses may show it.
    async fn after(&self, admitted: &Admitted) {
        if admitted.mutation {
            self.state.cache.invalidate(&[]).await;
        }
    }
}

/// A value of type `T` in `data`, if one was put there.
fn find<T: Any>(data: &Data) -> Option<&T> {
    data.get(&TypeId::of::<T>())
        .and_then(|value| value.downcast_ref::<T>())
}

/// The schema behind its admission checks: what HTTP and WebSocket execute.
#[derive(Clone)]
pub struct GuardedSchema {
    schema: ConduitSchema,
    admission: Arc<Admission>,
}

impl GuardedSchema {
    /// `schema`, checked with the limits, budgets and switches of `state`.
    pub fn new(schema: ConduitSchema, state: AppState) -> Self {
        let protection = &state.config.protection;
        let admission = Admission {
            limits: DocumentLimits::from_protection(protection),
            budgets: Budgets::from_protection(protection),
            documents: ParsedDocuments::new(PARSED_DOCUMENTS_BYTES),
            state,
        };
        Self {
            schema,
            admission: Arc::new(admission),
        }
    }
}

impl Executor for GuardedSchema {
    async fn execute(&self, mut request: Request) -> Response {
        let ticket = find::<RateLimitTicket>(&request.data).cloned();
        let admitted = match self.admission.admit(&mut request, ticket.as_ref()).await {
            Ok(admitted) => admitted,
            Err(error) => return Response::from_errors(vec![error]),
        };
        let response = self.schema.execute(request).await;
        self.admission.after(&admitted).await;
        response
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let this = self.clone();
        futures_util::stream::once(async move {
            let ticket = find::<RateLimitTicket>(&request.data)
                .or_else(|| session_data.as_deref().and_then(find::<RateLimitTicket>))
                .cloned();
            match this.admission.admit(&mut request, ticket.as_ref()).await {
                Err(error) => {
                    futures_util::stream::once(async move { Response::from_errors(vec![error]) })
                        .boxed()
                }
                Ok(admitted) => {
                    let admission = this.admission.clone();
                    let admitted = Arc::new(admitted);
                    this.schema
                        .execute_stream_with_session_data(request, session_data.unwrap_or_default())
                        .then(move |response| {
                            let (admission, admitted) = (admission.clone(), admitted.clone());
                            async move {
                                admission.after(&admitted).await;
                                response
                            }
                        })
                        .boxed()
                }
            }
        })
        .flatten()
        .boxed()
    }
}
