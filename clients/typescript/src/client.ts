// Clients as an app would build them: urql for queries and mutations over
// HTTP with the Bearer token, graphql-ws for subscriptions with the token in
// `connection_init`.
import { Client, fetchExchange } from "@urql/core";
import { createClient, type Client as WsClient } from "graphql-ws";
import WebSocket from "ws";

/** An urql client for the gateway at `url` (…/graphql), signed in when `token` is given. */
export function httpClient(url: string, token?: string): Client {
  return new Client({
    url,
    exchanges: [fetchExchange],
    requestPolicy: "network-only",
    preferGetMethod: false,
    fetchOptions: () => (token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
}

/** A graphql-ws client for the gateway at `url` (ws://…/graphql); it connects on the first subscription. */
export function wsClient(url: string, token?: string): WsClient {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  });
}

/** A generated document: its AST, with the hash the trusted-documents manifest knows it by. */
interface HashedDocument<Result, Variables> {
  __meta__?: { hash?: string };
  __apiType?: (variables: Variables) => Result;
}

/**
 * Runs a generated document by its hash alone (`documentId`), as clients do
 * against a server that runs only trusted documents.
 */
export async function runTrusted<Result, Variables>(
  url: string,
  document: HashedDocument<Result, Variables>,
  variables: Variables,
  token?: string,
): Promise<{ data?: Result; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const documentId = document.__meta__?.hash;
  if (!documentId) {
    throw new Error("the document has no hash: generate it with persistedDocuments on");
  }
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ documentId, variables }),
  });
  return response.json();
}
