//! Introspection, where it is on, is measured by limits of its own
//! (`MAX_INTROSPECTION_DEPTH`, `MAX_INTROSPECTION_LIST_NESTING`): the standard
//! introspection query that GraphiQL and code generators send runs under any
//! data limits, introspection whose lists nest deeper than that query's is
//! refused, and data selected beside introspection is held to the data limits.

use conduit::config::Environment;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

/// graphql-js 16's `getIntrospectionQuery` with every option on
/// (`descriptions`, `specifiedByUrl`, `directiveIsRepeatable`,
/// `schemaDescription`, `inputValueDeprecation`, `oneOf`), as it prints it
/// but for the trailing spaces of its blank lines.
const INTROSPECTION_QUERY: &str = r#"
    query IntrospectionQuery {
      __schema {
        description
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types {
          ...FullType
        }
        directives {
          name
          description
          isRepeatable


          locations
          args(includeDeprecated: true) {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      specifiedByURL
      isOneOf
      fields(includeDeprecated: true) {
        name
        description
        args(includeDeprecated: true) {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields(includeDeprecated: true) {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
      isDeprecated
      deprecationReason
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        name
        kind
        ofType {
          name
          kind
          ofType {
            name
            kind
            ofType {
              name
              kind
              ofType {
                name
                kind
                ofType {
                  name
                  kind
                  ofType {
                    name
                    kind
                    ofType {
                      name
                      kind
                      ofType {
                        name
                        kind
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
"#;

/// Asserts `body` was refused for `limit`, naming its maximum and what the
/// document had, and that nothing ran.
#[track_caller]
fn assert_refused(body: &Value, limit: &str, max: u64, actual: u64) {
    assert_error(body, "LIMIT_EXCEEDED");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["limit"], limit, "{body}");
    assert_eq!(error["extensions"]["max"], max, "{body}");
    assert_eq!(error["extensions"]["actual"], actual, "{body}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(limit),
        "the message names the limit: {body}"
    );
    assert!(body.get("data").is_none(), "nothing ran: {body}");
}

/// Asserts `body` answers the standard introspection query with the schema,
/// `Article` among its types.
#[track_caller]
fn assert_schema(body: &Value) {
    assert!(body.get("errors").is_none(), "{body}");
    let schema = &body["data"]["__schema"];
    assert!(schema["queryType"]["name"].is_string(), "{body}");
    let types = schema["types"].as_array().expect("types");
    let article = types
        .iter()
        .find(|t| t["name"] == "Article")
        .expect("Article is among the types");
    assert_eq!(article["kind"], "OBJECT");
    let fields = article["fields"].as_array().expect("Article has fields");
    assert!(fields.iter().any(|f| f["name"] == "slug"), "{article}");
    // The TypeRef chain reaches the named type: `slug: String!`.
    let slug = fields.iter().find(|f| f["name"] == "slug").expect("slug");
    assert_eq!(slug["type"]["kind"], "NON_NULL");
    assert_eq!(slug["type"]["ofType"]["name"], "String");
    assert!(
        schema["directives"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    );
}

#[tokio::test]
async fn the_standard_introspection_query_is_answered_in_development() {
    let app = TestApp::spawn().await;
    assert_schema(&app.graphql(INTROSPECTION_QUERY, json!({})).await);
}

#[tokio::test]
async fn the_standard_introspection_query_runs_under_any_data_limits() {
    // Introspection switched on in production, with data limits far below
    // what the query would measure as data (15 deep, over 200 fields).
    let app = TestApp::spawn_configured(|config| {
        config.environment = Environment::Production;
        config.protection.introspection = Some(true);
        config.protection.max_depth = 3;
        config.protection.max_cost = 10;
    })
    .await;
    assert_schema(&app.graphql(INTROSPECTION_QUERY, json!({})).await);
}

#[tokio::test]
async fn introspection_lists_nested_deeper_than_the_standard_query_are_refused() {
    let app = TestApp::spawn().await;
    let four = app
        .graphql(
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
            json!({}),
        )
        .await;
    assert_refused(&four, "introspectionListNesting", 3, 4);
    // Through fragments and `__type` alike.
    let fragments = app
        .graphql(
            "{ __type(name: \"Article\") { ...Lists } }
             fragment Lists on __Type { fields { type { interfaces { possibleTypes { ...Names } } } } }
             fragment Names on __Type { fields { name } }",
            json!({}),
        )
        .await;
    assert_refused(&fragments, "introspectionListNesting", 3, 4);
    // Three, as the standard query nests, are answered.
    let three = app
        .graphql(
            "{ __type(name: \"Article\") { fields { name type { ofType { fields { name type { ofType { fields { name } } } } } } } } }",
            json!({}),
        )
        .await;
    assert!(three.get("errors").is_none(), "{three}");
    let fields = three["data"]["__type"]["fields"]
        .as_array()
        .expect("fields");
    assert!(fields.iter().any(|f| f["name"] == "slug"), "{three}");
}

#[tokio::test]
async fn introspection_deeper_than_its_limit_is_refused() {
    let app = TestApp::spawn_configured(|config| {
        config.protection.max_introspection_depth = 15;
    })
    .await;
    // The standard query is 15 deep.
    assert_schema(&app.graphql(INTROSPECTION_QUERY, json!({})).await);
    let chain = |levels: usize| {
        format!(
            "{{ __type(name: \"Article\") {{ {} name {} }} }}",
            "ofType {".repeat(levels),
            "}".repeat(levels)
        )
    };
    // __type, 13 ofType, name: 15.
    let at = app.graphql(&chain(13), json!({})).await;
    assert!(at.get("errors").is_none(), "{at}");
    let over = app.graphql(&chain(14), json!({})).await;
    assert_refused(&over, "introspectionDepth", 15, 16);
}

#[tokio::test]
async fn data_beside_introspection_is_held_to_the_data_limits() {
    let app = TestApp::spawn_configured(|config| {
        config.protection.max_depth = 3;
        config.protection.max_cost = 30;
    })
    .await;
    // articles > nodes > author > username: depth 4.
    let deep = app
        .graphql(
            "{ __schema { queryType { name } } articles(first: 1) { nodes { author { username } } } }",
            json!({}),
        )
        .await;
    assert_refused(&deep, "depth", 3, 4);
    // The same through a fragment spread inside both parts.
    let spread = app
        .graphql(
            "{ __schema { types { name } } articles(first: 1) { ...Deep } }
             fragment Deep on ArticleConnection { nodes { author { username } } }",
            json!({}),
        )
        .await;
    assert_refused(&spread, "depth", 3, 4);
    // tags: 1 + 20 * (name + articleCount) = 41.
    let costly = app
        .graphql(
            "{ __type(name: \"Tag\") { name } tags(first: 20) { name articleCount } }",
            json!({}),
        )
        .await;
    assert_refused(&costly, "cost", 30, 41);
    // Within the data limits, both parts are answered.
    let both = app
        .graphql(
            "{ __type(name: \"Tag\") { name } tags(first: 10) { name articleCount } }",
            json!({}),
        )
        .await;
    assert!(both.get("errors").is_none(), "{both}");
    assert_eq!(both["data"]["__type"]["name"], "Tag", "{both}");
}
