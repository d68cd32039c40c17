// A Node `http` client that reports what it saw, with times, as one JSON line.
// Usage: node client.js URL [METHOD] [BODY] [expect]
'use strict';
const http = require('http');

const [url, method = 'GET', body = '', expect = ''] = process.argv.slice(2);
const started = process.hrtime.bigint();
const now = () => Number(process.hrtime.bigint() - started) / 1e9;
const seen = { interims: [], continueAt: null, status: null, body: '', endedAt: null, error: null };
let reported = false;
const report = () => { if (!reported) { reported = true; console.log(JSON.stringify(seen)); } };
const failed = (error) => { seen.error = seen.error || error.code || error.message; report(); };

const headers = {};
if (body) headers['content-length'] = Buffer.byteLength(body);
if (expect) headers['expect'] = '100-continue';

const request = http.request(url, { method, headers, agent: false });
request.setTimeout(10000, () => request.destroy(new Error('client timeout')));
request.on('information', (info) => {
  seen.interims.push({ status: info.statusCode, headers: info.headers, at: now() });
});
request.on('continue', () => {
  seen.continueAt = now();
  request.end(body);
});
request.on('response', (response) => {
  seen.status = response.statusCode;
  response.setEncoding('utf8');
  response.on('data', (chunk) => { seen.body += chunk; });
  response.on('end', () => { seen.endedAt = now(); report(); });
  response.on('error', failed);
  response.on('aborted', () => failed({ code: 'ECONNRESET' }));
});
request.on('error', failed);
request.on('close', () => setImmediate(report));
if (!expect) request.end(body);
