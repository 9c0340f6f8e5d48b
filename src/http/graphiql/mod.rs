//! The GraphiQL playground, served on `GET /graphql` to browsers, with every
//! asset it needs served by the gateway itself (`/graphiql/<version>/<file>`):
//! it works on networks that cannot reach a CDN.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::HttpState;

/// The version of the bundled assets, part of their URLs: a new bundle gets
/// new URLs, so browsers may keep each one forever.
pub const ASSETS_VERSION: &str = "graphiql-4.1.2-ws-5.16.2";

/// A bundled file: its name in URLs, media type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 5] = [
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/graphiql.min.css"),
    },
    Asset {
        name: "graphql-ws.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/graphql-ws.min.js"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/react-dom.production.min.js"),
    },
];

/// The route the assets are served under.
pub const ASSETS_ROUTE: &str = "/graphiql/{version}/{file}";

/// The GraphiQL page, pointed at `/graphql` for queries, mutations and
/// subscriptions (over WebSocket on the same path).
pub fn page() -> Response {
    let html = PAGE.replace("{ASSETS}", &format!("/graphiql/{ASSETS_VERSION}"));
    Html(html).into_response()
}

/// `GET /graphiql/<version>/<file>`: a bundled asset, cacheable for a year;
/// 404 for anything else, including another version's URLs, and for
/// everything while GraphiQL is switched off.
pub async fn asset(
    State(state): State<HttpState>,
    Path((version, file)): Path<(String, String)>,
) -> Response {
    let found = (state.app.config.graphiql_enabled() && version == ASSETS_VERSION)
        .then(|| ASSETS.iter().find(|asset| asset.name == file))
        .flatten();
    let Some(asset) = found else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Conduit Gateway · GraphiQL</title>
    <style>
      body { height: 100%; margin: 0; width: 100%; overflow: hidden; }
      #graphiql { height: 100vh; }
    </style>
    <link rel="stylesheet" href="{ASSETS}/graphiql.min.css">
    <script src="{ASSETS}/react.production.min.js"></script>
    <script src="{ASSETS}/react-dom.production.min.js"></script>
    <script src="{ASSETS}/graphiql.min.js"></script>
    <script src="{ASSETS}/graphql-ws.min.js"></script>
  </head>
  <body>
    <div id="graphiql">Loading…</div>
    <script>
      const http = new URL("/graphql", window.location.href);
      const ws = new URL(http);
      ws.protocol = http.protocol === "https:" ? "wss:" : "ws:";
      // Subscriptions go over graphql-ws; a token typed into the Headers tab as
      // {"Authorization": "Bearer ..."} signs in the socket too.
      const headers = () => {
        try {
          return JSON.parse(localStorage.getItem("graphiql:headers") || "{}");
        } catch {
          return {};
        }
      };
      const fetcher = GraphiQL.createFetcher({
        url: http.toString(),
        wsClient: graphqlWs.createClient({ url: ws.toString(), lazy: true, connectionParams: headers }),
        fetch: (url, options = {}) => fetch(url, { ...options, credentials: "same-origin" }),
      });
      ReactDOM.createRoot(document.getElementById("graphiql")).render(
        React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true })
      );
    </script>
  </body>
</html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_nothing_from_another_origin() {
        let html = PAGE.replace("{ASSETS}", &format!("/graphiql/{ASSETS_VERSION}"));
        for attribute in ["src=\"", "href=\""] {
            for (start, _) in html.match_indices(attribute) {
                let url = &html[start + attribute.len()..];
                assert!(
                    url.starts_with("/graphiql/"),
                    "{}",
                    &url[..40.min(url.len())]
                );
            }
        }
        for asset in &ASSETS {
            assert!(
                html.contains(&format!("/graphiql/{ASSETS_VERSION}/{}", asset.name)),
                "{} is bundled but not used",
                asset.name
            );
        }
    }
}
