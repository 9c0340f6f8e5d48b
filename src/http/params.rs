//! The parameters of a GraphQL request, read from a JSON body or a GET query
//! string and checked before anything runs.

use serde_json::{Map, Value};

/// One GraphQL request as the client sent it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphQLParams {
    /// The document; absent when a persisted query is named by hash.
    pub query: Option<String>,
    /// Which operation of the document to run.
    pub operation_name: Option<String>,
    /// Values of the operation's variables.
    pub variables: Map<String, Value>,
    /// Protocol extensions, e.g. `persistedQuery`.
    pub extensions: Map<String, Value>,
    /// The hash of a persisted or trusted document, instead of `query`.
    pub document_id: Option<String>,
}

/// Why the parameters are unusable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParamsError(pub String);

/// Reads a POST body as JSON: one request object, or a batch of them. The
/// JSON parser refuses nesting deeper than 128 levels, so nothing built from
/// the body is deeper than that.
pub fn parse_json_body(body: &[u8]) -> Result<Value, ParamsError> {
    serde_json::from_slice(body)
        .map_err(|err| ParamsError(format!("the body is not a GraphQL request in JSON: {err}")))
}

impl GraphQLParams {
    /// Reads one request object (`{"query", "operationName", "variables", "extensions"}`).
    pub fn from_json(value: Value) -> Result<Self, ParamsError> {
        let Value::Object(mut object) = value else {
            return Err(ParamsError(
                "a GraphQL request must be a JSON object".into(),
            ));
        };
        let query = match object.remove("query") {
            None | Some(Value::Null) => None,
            Some(Value::String(query)) => Some(query),
            Some(_) => return Err(ParamsError("`query` must be a string".into())),
        };
        let operation_name = match object.remove("operationName") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name),
            Some(_) => return Err(ParamsError("`operationName` must be a string".into())),
        };
        let document_id = match object.remove("documentId") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id),
            Some(_) => return Err(ParamsError("`documentId` must be a string".into())),
        };
        let variables = object_param(object.remove("variables"), "variables")?;
        let extensions = object_param(object.remove("extensions"), "extensions")?;
        Ok(Self {
            query,
            operation_name,
            variables,
            extensions,
            document_id,
        })
    }

    /// Reads a GET query string, whose `variables` and `extensions` are JSON text.
    pub fn from_query_string(query_string: &str) -> Result<Self, ParamsError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query_string)
            .map_err(|err| ParamsError(format!("the query string cannot be read: {err}")))?;
        let mut params = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "query" => params.query = Some(value),
                "operationName" if !value.is_empty() => params.operation_name = Some(value),
                "documentId" if !value.is_empty() => params.document_id = Some(value),
                "variables" => params.variables = json_object_text(&value, "variables")?,
                "extensions" => params.extensions = json_object_text(&value, "extensions")?,
                _ => {}
            }
        }
        Ok(params)
    }

    /// The request async-graphql executes.
    pub fn into_request(self, query: String) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(query).variables(
            async_graphql::Variables::from_json(Value::Object(self.variables)),
        );
        request.operation_name = self.operation_name;
        request
    }
}

fn object_param(value: Option<Value>, name: &str) -> Result<Map<String, Value>, ParamsError> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(ParamsError(format!("`{name}` must be an object"))),
    }
}

fn json_object_text(text: &str, name: &str) -> Result<Map<String, Value>, ParamsError> {
    if text.is_empty() {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|err| ParamsError(format!("`{name}` is not JSON: {err}")))?;
    object_param(Some(value), name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_requests_are_checked_field_by_field() {
        let params = GraphQLParams::from_json(json!({
            "query": "{ a }", "operationName": null, "variables": { "x": 1 }, "extensions": null
        }))
        .expect("valid");
        assert_eq!(params.query.as_deref(), Some("{ a }"));
        assert_eq!(params.variables["x"], 1);
        assert!(GraphQLParams::from_json(json!({ "query": 1 })).is_err());
        assert!(GraphQLParams::from_json(json!({ "query": "{a}", "variables": [] })).is_err());
        assert!(GraphQLParams::from_json(json!({ "query": "{a}", "operationName": 2 })).is_err());
        assert!(GraphQLParams::from_json(json!("{ a }")).is_err());
    }

    #[test]
    fn bodies_nested_past_the_json_parsers_limit_are_refused() {
        let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        assert!(parse_json_body(nested(100).as_bytes()).is_ok());
        let err = parse_json_body(nested(100_000).as_bytes()).expect_err("too deep");
        assert!(err.0.contains("recursion limit"), "{err}");
    }

    #[test]
    fn query_strings_carry_json_variables() {
        let params = GraphQLParams::from_query_string(
            "query=query%20Q(%24n%3AInt)%7Bx%7D&operationName=Q&variables=%7B%22n%22%3A3%7D",
        )
        .expect("valid");
        assert_eq!(params.query.as_deref(), Some("query Q($n:Int){x}"));
        assert_eq!(params.operation_name.as_deref(), Some("Q"));
        assert_eq!(params.variables["n"], 3);
        assert!(GraphQLParams::from_query_string("query={a}&variables=%7Bnope").is_err());
    }
}
