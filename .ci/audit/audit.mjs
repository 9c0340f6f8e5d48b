// Runs the graphql-http server audit against a running gateway and fails on
// any MUST that is not met. Usage: node audit.mjs http://127.0.0.1:8080/graphql
//
// Every request carries `apollo-require-preflight`, as browser clients of this
// server do: without it, CSRF prevention refuses GET requests (see README).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint url>');
  process.exit(2);
}
const preflight = process.env.AUDIT_WITHOUT_PREFLIGHT_HEADER !== '1';

async function fetchWithPreflight(input, init = {}) {
  const headers = new Headers(init.headers);
  if (preflight) headers.set('apollo-require-preflight', 'true');
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: fetchWithPreflight });
let mustFailures = 0;
for (const result of results) {
  const level = result.name.split(' ')[0];
  const mark = result.status === 'ok' ? 'ok    ' : result.status === 'warn' ? 'WARN  ' : 'FAIL  ';
  console.log(`${mark}${result.id} ${result.name}`);
  if (result.status !== 'ok') {
    console.log(`        ${result.reason}`);
    if (result.status === 'error' && level === 'MUST') mustFailures += 1;
  }
}
const counts = results.reduce((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
console.log(`audit: ${JSON.stringify(counts)}; MUST failures: ${mustFailures}`);
process.exit(mustFailures === 0 ? 0 : 1);
