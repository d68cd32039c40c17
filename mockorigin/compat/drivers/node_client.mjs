// A Node.js HTTP client under client-check: `node node_client.mjs http|fetch`.
// `http` waits for 'continue' when Expect is asked for (1 s fallback, as Node's docs suggest);
// `fetch` is undici. Exit 0 with the status (and interims seen) and body; 1 with the error.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const library = process.argv[2] ?? 'http';
const env = process.env;
const url = env.MO_URL;
const method = env.MO_METHOD ?? 'GET';
const body = env.MO_BODY_FILE ? readFileSync(env.MO_BODY_FILE) : Buffer.alloc(0);
const expect = env.MO_EXPECT ?? '';
const timeout = Number(env.MO_TIMEOUT ?? '5') * 1000;

function fail(error) {
  console.error(String(error?.cause ?? error?.message ?? error));
  process.exit(1);
}

if (library === 'fetch') {
  const headers = expect ? { Expect: expect } : {};
  try {
    const response = await fetch(url, { method, headers, body: method === 'GET' ? undefined : body, signal: AbortSignal.timeout(timeout) });
    const text = await response.text();
    process.stdout.write(`${response.status}\n${text}`);
  } catch (error) {
    fail(error);
  }
} else {
  const headers = method === 'GET' ? {} : { 'Content-Length': body.length };
  if (expect) headers.Expect = expect;
  const interims = [];
  const request = http.request(url, { method, headers });
  request.setTimeout(timeout, () => request.destroy(new Error('timeout')));
  request.on('information', (info) => interims.push(info.statusCode));
  request.on('error', fail);
  request.on('response', (response) => {
    const chunks = [];
    response.on('data', (chunk) => chunks.push(chunk));
    response.on('error', fail);
    response.on('end', () => {
      process.stdout.write(`${response.statusCode} [${interims.join(',')}]\n${Buffer.concat(chunks)}`);
      process.exit(0);
    });
  });
  if (expect && method !== 'GET') {
    let sent = false;
    const send = () => { if (!sent) { sent = true; request.end(body); } };
    request.on('continue', send);
    setTimeout(send, 1000);
  } else {
    request.end(method === 'GET' ? undefined : body);
  }
}
