//! What every request passes before it runs, over HTTP and WebSocket alike:
//! the document limits, the introspection switch and the rate-limit charge
//! (and, for an operation on a WebSocket, the connection's viewer as its
//! account stands now);
//! and what follows a mutation: retiring the cached anonymous responses.
//!
//! [`GuardedSchema`] wraps the schema and does this around each execution. It
//! is not done with schema extensions because any extension sends every
//! resolved field through a chain of extra futures, which cost a tenth of the
//! CPU of an uncached home page for hooks that run once per request.
//!
//! An admitted document is validated as sent, then planned and run as the
//! spec runs it ([`super::execution`]). A document that has passed the
//! validation rules once has only its variables' values checked after that,
//! and reuses its plan when no value can change it: the rules read only the
//! document, the schema and those values.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response, ServerError, ValidationMode, Value};
use chrono::Utc;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::Semaphore;

use super::error_messages::{syntax_error, without_echoes};
use super::escapes::rewrite_unicode_escapes;
use super::execution::{Plan, PlanError, Validator, plan};
use super::introspection;
use super::limits::{DocumentLimits, check_storable, measure};
use super::parsed_documents::{DocumentRecord, ParsedDocuments};
use super::rate_limit::{Budgets, Prepaid, RateLimitTicket, charge_request, selected_operation};
use super::response_cache::ResponseScope;
use super::validation::{self, rules_view};
use super::{ConduitSchema, build_schema};
use crate::auth::Viewer;
use crate::error::Error;
use crate::state::AppState;
use crate::telemetry::spawn_blocking_in_span;

/// How much memory parsed documents may take, about.
const PARSED_DOCUMENTS_BYTES: u64 = 8 * 1024 * 1024;

/// Documents longer than this, in bytes, that were not parsed lately are
/// parsed on the blocking pool. Parsing takes time in proportion to the
/// document's length: a long document parsed inline would hold an async
/// worker, deaf to the request timeout meanwhile.
const INLINE_PARSE_BYTES: usize = 16 * 1024;

/// The most fields an operation's plan may hold, once fragments are
/// flattened per possible type and repeated fields merged. The document
/// limits keep real documents far below it.
pub const MAX_PLANNED_FIELDS: usize = 50_000;

/// The checks a request passes before it runs, as configured at start-up.
struct Admission {
    state: AppState,
    limits: DocumentLimits,
    budgets: Budgets,
    documents: Arc<ParsedDocuments>,
    /// One permit per core: the long documents parsed at once.
    long_parses: Arc<Semaphore>,
    /// The validation rules, and the registry plans are made from.
    validator: Validator,
}

/// What admission learned of a request it let through.
struct Admitted {
    mutation: bool,
    /// The request's document as sent, and what is known about its text.
    record: DocumentRecord,
}

impl Admission {
    /// Checks `request` and charges it to `ticket`'s caller. The parsed
    /// document is handed on, so it is parsed once; one that does not parse
    /// is answered with its syntax error here.
    async fn admit(
        &self,
        request: &mut Request,
        ticket: Option<&RateLimitTicket>,
    ) -> Result<Admitted, ServerError> {
        self.limits
            .check_text(&request.query)
            .map_err(Error::into_request_error)?;
        let record = self.parse(&mut request.query).await?;
        let document = record.document();
        let operation_name = request.operation_name.as_deref();
        let measured = measure(document, operation_name, &request.variables);
        self.limits
            .check(&measured)
            .map_err(Error::into_request_error)?;
        check_storable(document, &request.variables).map_err(Error::into_request_error)?;
        let operation = selected_operation(document, operation_name);
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
                document,
                operation,
                measured.cost,
            )
            .await?;
        }
        if !self.state.config.introspection_enabled() && introspection::asks_for_schema(document) {
            return Err(introspection::refusal());
        }
        if mutation && let Some(scope) = find::<Arc<ResponseScope>>(&request.data) {
            scope.mark_private();
        }
        Ok(Admitted { mutation, record })
    }

    /// Validates the admitted document as sent (only its variables' values
    /// when the same text passed before), plans the operation (or takes the
    /// plan kept for it) and puts the plan's document in `request` to run.
    async fn prepare(
        &self,
        request: &mut Request,
        admitted: Admitted,
    ) -> Result<Arc<Plan>, Vec<ServerError>> {
        let record = admitted.record;
        let document = record.document();
        self.validate(request, &record).await?;
        let operation_name = request.operation_name.as_deref();
        let plan = match record.kept_plan(operation_name) {
            Some(plan) => plan,
            None => {
                let planned = plan(
                    self.validator.registry(),
                    document,
                    operation_name,
                    &request.variables,
                    MAX_PLANNED_FIELDS,
                );
                let plan = Arc::new(planned.map_err(|error| vec![plan_error(error)])?);
                record.keep_plan(operation_name, &plan);
                plan
            }
        };
        request.set_parsed_query(plan.document.clone());
        Ok(plan)
    }

    /// The validation errors of `request` with the document of `record`, in
    /// one order for every request. The first time the text passes,
    /// async-graphql's rules and the server's own run; after that, as
    /// graphql-js validates a document once and coerces each request's
    /// variables, only the values sent are checked.
    async fn validate(
        &self,
        request: &Request,
        record: &DocumentRecord,
    ) -> Result<(), Vec<ServerError>> {
        let registry = self.validator.registry();
        let document = record.document();
        let operation_name = request.operation_name.as_deref();
        let mut errors = Vec::new();
        let prevalidated = record.prevalidated();
        if !prevalidated {
            let for_rules =
                rules_view::for_rules(registry, document).unwrap_or_else(|| document.clone());
            errors = self
                .validator
                .validate(
                    for_rules,
                    request.variables.clone(),
                    request.operation_name.clone(),
                )
                .await;
            if errors.is_empty() {
                errors = validation::document_errors(registry, document, &request.query);
            }
        }
        if errors.is_empty() {
            errors =
                validation::variable_errors(registry, document, operation_name, &request.variables);
        }
        if errors.is_empty() {
            if !prevalidated {
                record.mark_validated();
            }
            return Ok(());
        }
        // The rules keep some of what they find in hash maps: one order for
        // every request, by place in the document.
        errors.sort_by(|one, other| {
            let at =
                |error: &ServerError| error.locations.first().map(|pos| (pos.line, pos.column));
            (at(one), &one.message).cmp(&(at(other), &other.message))
        });
        Err(errors)
    }

    /// The request's document, parsed (after the Unicode escapes the parser
    /// does not read are rewritten): inline when it is short or kept
    /// parsed, else on the blocking pool, at most one per core at a time, so
    /// that a long document holds no async worker and the request's timeout
    /// can cut the wait. A document that does not parse is answered with its
    /// syntax error.
    async fn parse(&self, query: &mut String) -> Result<DocumentRecord, ServerError> {
        if let Cow::Owned(joined) = rewrite_unicode_escapes(query) {
            *query = joined;
        }
        if query.len() <= INLINE_PARSE_BYTES || self.documents.is_kept(query) {
            return self.documents.parse(query).map_err(syntax_error);
        }
        let failed = |what: String| Error::Internal(what).into_request_error();
        let slot = self
            .long_parses
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| failed(format!("the parse slots are closed: {e}")))?;
        let documents = self.documents.clone();
        let text = std::mem::take(query);
        let (text, parsed) = spawn_blocking_in_span(move || {
            // Held until the parse ends, even when the request is gone.
            let _slot = slot;
            let parsed = documents.parse(&text);
            (text, parsed)
        })
        .await
        .map_err(|e| failed(format!("parsing a document failed: {e}")))?;
        *query = text;
        parsed.map_err(syntax_error)
    }

    /// The viewer of a connection (in its `data`) as its account stands now,
    /// for one more operation on it: the token's expiry, revocations, the
    /// session epoch, a ban and the current role are checked again, so that a
    /// demotion or a ban takes effect on an open connection at its next
    /// operation. `None` for an anonymous connection.
    fn current_viewer(&self, data: &Data) -> Result<Option<Viewer>, ServerError> {
        let Some(Viewer::Signed(session)) = find::<Viewer>(data) else {
            return Ok(None);
        };
        let refused = |error: Error| error.into_request_error();
        if session.expires_at <= Utc::now() {
            return Err(refused(Error::Unauthenticated(
                "the token has expired".into(),
            )));
        }
        self.state
            .access
            .admit(session.clone())
            .map(|session| Some(Viewer::Signed(session)))
            .map_err(refused)
    }

    /// After a mutation ran: whatever it changed, cached responses may show it.
    async fn after(&self, mutation: bool) {
        if mutation {
            self.state.cache.invalidate(&[]).await;
        }
    }
}

/// A value of type `T` in `data`, if one was put there.
fn find<T: Any>(data: &Data) -> Option<&T> {
    data.get(&TypeId::of::<T>())
        .and_then(|value| value.downcast_ref::<T>())
}

/// A plan that cannot be made, as the error the client gets.
fn plan_error(error: PlanError) -> ServerError {
    let error = match error {
        PlanError::TooLarge { max } => Error::LimitExceeded {
            limit: "planned fields",
            max: max as u64,
            actual: max as u64 + 1,
        },
        PlanError::Condition(message) | PlanError::Invalid(message) => {
            return ServerError::new(message, None);
        }
    };
    error.into_request_error()
}

/// Whether `response` shows that its document was admitted and passed
/// validation: a document refused by admission or validation is answered
/// with errors alone, before anything runs.
pub fn passed_validation(response: &Response) -> bool {
    response.errors.is_empty() || !matches!(response.data, Value::Null)
}

/// The schema behind its admission checks: what HTTP and WebSocket execute.
#[derive(Clone)]
pub struct GuardedSchema {
    /// The schema that runs plans; they are validated before.
    executor: ConduitSchema,
    admission: Arc<Admission>,
}

impl GuardedSchema {
    /// The schema wired to `state`, checked with its limits, budgets and
    /// switches.
    pub fn new(state: AppState) -> Self {
        let protection = &state.config.protection;
        let admission = Admission {
            limits: DocumentLimits::from_protection(protection),
            budgets: Budgets::from_protection(protection),
            documents: Arc::new(ParsedDocuments::new(PARSED_DOCUMENTS_BYTES)),
            long_parses: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            )),
            validator: Validator::new(state.clone()),
            state,
        };
        Self {
            executor: build_schema(admission.state.clone(), ValidationMode::Fast),
            admission: Arc::new(admission),
        }
    }

    /// The type of the operation `query` would run (the one named
    /// `operation_name`, or the only one), found as admission finds it: the
    /// text checked first, a long document parsed off the workers, and the
    /// parse kept for the request that follows. `None` when the document does
    /// not pass the checks, does not parse or names no such operation.
    pub async fn operation_type(
        &self,
        query: &mut String,
        operation_name: Option<&str>,
    ) -> Option<OperationType> {
        self.admission.limits.check_text(query).ok()?;
        let record = self.admission.parse(query).await.ok()?;
        selected_operation(record.document(), operation_name).map(|operation| operation.ty)
    }
}

impl Executor for GuardedSchema {
    async fn execute(&self, mut request: Request) -> Response {
        let ticket = find::<RateLimitTicket>(&request.data).cloned();
        let admitted = match self.admission.admit(&mut request, ticket.as_ref()).await {
            Ok(admitted) => admitted,
            Err(error) => return without_echoes(Response::from_errors(vec![error])),
        };
        let mutation = admitted.mutation;
        let plan = match self.admission.prepare(&mut request, admitted).await {
            Ok(plan) => plan,
            Err(errors) => return without_echoes(Response::from_errors(errors)),
        };
        let mut response = self.executor.execute(request).await;
        plan.shape.complete(&mut response);
        self.admission.after(mutation).await;
        without_echoes(response)
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
            let viewer = match session_data
                .as_deref()
                .map(|data| this.admission.current_viewer(data))
            {
                Some(Err(error)) => {
                    return futures_util::stream::once(async move {
                        without_echoes(Response::from_errors(vec![error]))
                    })
                    .boxed();
                }
                Some(Ok(viewer)) => viewer,
                None => None,
            };
            if let Some(viewer) = viewer {
                request.data.insert(viewer);
            }
            let refused = |errors: Vec<ServerError>| {
                futures_util::stream::once(
                    async move { without_echoes(Response::from_errors(errors)) },
                )
                .boxed()
            };
            let admitted = match this.admission.admit(&mut request, ticket.as_ref()).await {
                Ok(admitted) => admitted,
                Err(error) => return refused(vec![error]),
            };
            let mutation = admitted.mutation;
            let plan = match this.admission.prepare(&mut request, admitted).await {
                Ok(plan) => plan,
                Err(errors) => return refused(errors),
            };
            let admission = this.admission.clone();
            this.executor
                .execute_stream_with_session_data(request, session_data.unwrap_or_default())
                .then(move |mut response| {
                    let (admission, plan) = (admission.clone(), plan.clone());
                    async move {
                        plan.shape.complete(&mut response);
                        admission.after(mutation).await;
                        without_echoes(response)
                    }
                })
                .boxed()
        })
        .flatten()
        .boxed()
    }
}
