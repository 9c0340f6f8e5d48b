//! One execution semantics for every transport and every way of writing an
//! answer: what the GraphQL specification's execution would answer.
//!
//! A request's document is validated as sent ([`validator`]), then planned
//! ([`plan`]): fields collected per the spec, `@skip`/`@include` decided with
//! the variables' defaults, repeated response keys merged into one field,
//! fragments flattened per possible type. async-graphql runs the plan, and
//! its answer is completed into the plan's shape ([`shape`]): keys in the
//! collected order, failed fields null, nulls propagated to the nearest
//! nullable ancestor. Lists that write themselves as JSON text
//! ([`crate::graphql::ready`]) see the planned selection too, so they answer
//! exactly what the field-by-field way would.

pub mod plan;
pub mod shape;
pub mod validator;

pub use plan::{INJECTED, Plan, PlanError, plan};
pub use shape::ResponseShape;
pub use validator::Validator;
