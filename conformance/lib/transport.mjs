// The three ways a query reaches the server: HTTP POST with a JSON body,
// HTTP GET with the request in the query string, and a `subscribe` message
// on a WebSocket speaking graphql-transport-ws. Each returns the parsed body
// of the answer (for the WebSocket: the `next` payload, or `{ errors }` for
// an `error` message), or throws on a transport failure.
import WebSocket from "ws";

/** GET URLs longer than this are not sent (RFC 9110 asks servers to take at least 8000 octets). */
export const MAX_GET_URL = 8000;

const ACCEPT = "application/graphql-response+json, application/json;q=0.9";

function headers(token, extra = {}) {
  const h = { accept: ACCEPT, ...extra };
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

function requestBody({ query, variables, operationName }) {
  const body = { query };
  if (variables !== undefined) body.variables = variables;
  if (operationName != null) body.operationName = operationName;
  return body;
}

async function parseAnswer(response, path) {
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text), text };
  } catch {
    throw new Error(`${path}: HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}

export async function post(url, token, request) {
  const response = await fetch(url, {
    method: "POST",
    headers: headers(token, { "content-type": "application/json" }),
    body: JSON.stringify(requestBody(request)),
  });
  return parseAnswer(response, "POST");
}

/** The GET URL of a request, or null when it would be longer than MAX_GET_URL. */
export function getUrl(url, request) {
  const params = new URLSearchParams();
  params.set("query", request.query);
  if (request.variables !== undefined) params.set("variables", JSON.stringify(request.variables));
  if (request.operationName != null) params.set("operationName", request.operationName);
  const full = `${url}?${params}`;
  return full.length > MAX_GET_URL ? null : full;
}

export async function get(fullUrl, token) {
  // A header that forces a CORS preflight, as browser clients of this server
  // send (the server's CSRF prevention refuses simple GETs).
  const response = await fetch(fullUrl, { headers: headers(token, { "apollo-require-preflight": "true" }) });
  return parseAnswer(response, "GET");
}

/**
 * One graphql-transport-ws connection that runs many operations, one at a
 * time or interleaved, each under an id of its own.
 */
export class Socket {
  constructor(wsUrl, token) {
    this.wsUrl = wsUrl;
    this.token = token;
    this.pending = new Map();
    this.nextId = 1;
    this.ready = null;
  }

  open() {
    if (this.ready) return this.ready;
    this.ready = new Promise((resolve, reject) => {
      const ws = new WebSocket(this.wsUrl, "graphql-transport-ws");
      this.ws = ws;
      ws.on("open", () => {
        const payload = this.token ? { Authorization: `Bearer ${this.token}` } : {};
        ws.send(JSON.stringify({ type: "connection_init", payload }));
      });
      ws.on("message", (data) => {
        const message = JSON.parse(String(data));
        if (message.type === "connection_ack") return resolve(this);
        if (message.type === "ping") return ws.send(JSON.stringify({ type: "pong" }));
        const operation = this.pending.get(message.id);
        if (!operation) return;
        if (message.type === "next") {
          operation.payloads.push(message.payload);
        } else if (message.type === "error") {
          this.pending.delete(message.id);
          operation.resolve({ body: { errors: message.payload }, messages: [...operation.payloads.map(() => "next"), "error"] });
        } else if (message.type === "complete") {
          this.pending.delete(message.id);
          if (operation.payloads.length === 1) {
            operation.resolve({ body: operation.payloads[0], messages: ["next", "complete"] });
          } else {
            operation.reject(new Error(`WebSocket: ${operation.payloads.length} next messages for one query`));
          }
        }
      });
      const fail = (why) => {
        reject(new Error(why));
        for (const operation of this.pending.values()) operation.reject(new Error(why));
        this.pending.clear();
        this.ready = null;
      };
      ws.on("close", (code, reason) => fail(`WebSocket closed: ${code} ${reason}`));
      ws.on("error", (err) => fail(`WebSocket error: ${err.message}`));
    });
    return this.ready;
  }

  async run(request, timeoutMs = 30000) {
    await this.open();
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error("WebSocket: no answer within 30 s"));
      }, timeoutMs);
      this.pending.set(id, {
        payloads: [],
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      this.ws.send(JSON.stringify({ id, type: "subscribe", payload: requestBody(request) }));
    });
  }

  close() {
    if (this.ws) {
      this.ws.removeAllListeners("close");
      this.ws.on("error", () => {});
      this.ws.close();
    }
    this.ready = null;
  }
}

/** A few sockets per caller, handed out in turn. */
export class SocketPool {
  constructor(wsUrl, size = 2) {
    this.wsUrl = wsUrl;
    this.size = size;
    this.sockets = new Map();
    this.turn = 0;
  }

  run(token, request) {
    const key = token ?? "";
    if (!this.sockets.has(key)) {
      this.sockets.set(key, Array.from({ length: this.size }, () => new Socket(this.wsUrl, token)));
    }
    const sockets = this.sockets.get(key);
    return sockets[this.turn++ % sockets.length].run(request);
  }

  close() {
    for (const sockets of this.sockets.values()) for (const socket of sockets) socket.close();
  }
}
