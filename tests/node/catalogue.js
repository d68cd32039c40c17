// Drives catalogue entries with Node's own clients, many at once, and reports what each saw.
// Usage: node --experimental-websocket catalogue.js < plans.json   (a JSON array; prints one)
// Each plan: {mark, client: "http" | "fetch" | "ws", url, method, headers, body, expect,
//   expectFallback, timeout, followup, send, closeAfter}. Times are seconds from the plan's start.
// Only Node built-ins: `http`, `fetch` (undici) and the WebSocket global (undici).
'use strict';
const http = require('http');

const clock = () => {
  const started = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - started) / 1e9;
};
const describe = (error) => {
  const cause = error && error.cause;
  return {
    error: (error && (error.code || error.message)) || String(error),
    message: error && error.message,
    cause: cause ? cause.code || cause.message : null,
    causeMessage: cause ? cause.message : null,
  };
};

// One request with `http`, on `agent`; resolves with what the client saw (never rejects).
function httpRequest(plan, url, agent, now) {
  return new Promise((resolve) => {
    const seen = { interims: [], continueAt: null, status: null, reason: null, headers: null,
      body: '', error: null, endedAt: null, reusedSocket: null, upgraded: false };
    let settled = false;
    const done = () => { if (!settled) { settled = true; resolve(seen); } };
    const fail = (error) => { if (seen.error === null) Object.assign(seen, describe(error)); seen.endedAt = now(); done(); };
    const headers = { 'user-agent': 'node-http/' + process.version, ...(plan.headers || {}) };
    const body = plan.body === undefined || plan.body === null ? '' : plan.body;
    if (body) headers['content-length'] = Buffer.byteLength(body);
    if (plan.expect) headers.expect = '100-continue';
    const request = http.request(url, { method: plan.method || 'GET', headers, agent });
    request.setTimeout(plan.timeout || 3000, () => request.destroy(Object.assign(new Error('client timeout'), { code: 'TIMEOUT' })));
    request.on('information', (info) => {
      seen.interims.push({ status: info.statusCode, reason: info.statusMessage, headers: info.headers, at: now() });
    });
    let bodySent = false;
    const sendBody = () => { if (!bodySent) { bodySent = true; request.end(body); } };
    request.on('continue', () => { seen.continueAt = now(); sendBody(); });
    request.on('socket', (socket) => { seen.reusedSocket = request.reusedSocket; });
    request.on('upgrade', (response, socket, head) => {
      seen.upgraded = true;
      seen.status = response.statusCode;
      seen.headers = response.headers;
      seen.body = head.toString('latin1');
      socket.on('data', (data) => { seen.body += data.toString('latin1'); });
      setTimeout(() => { socket.destroy(); seen.endedAt = now(); done(); }, plan.upgradeWait || 300);
    });
    request.on('response', (response) => {
      if (plan.expect && !bodySent) { bodySent = true; request.end(); } // a final answer: the body is not sent
      seen.status = response.statusCode;
      seen.reason = response.statusMessage;
      seen.headers = response.headers;
      seen.httpVersion = response.httpVersion;
      seen.rawHeaders = response.rawHeaders;
      response.setEncoding('latin1');
      response.on('data', (chunk) => { seen.body += chunk; });
      response.on('end', () => { seen.trailers = response.trailers; seen.endedAt = now(); done(); });
      response.on('error', fail);
      response.on('aborted', () => fail({ code: 'ECONNRESET', message: 'aborted' }));
    });
    request.on('error', fail);
    request.on('close', () => setImmediate(() => { if (!settled) { seen.endedAt = now(); done(); } }));
    if (plan.expect) setTimeout(sendBody, plan.expectFallback || 1000);
    else sendBody();
  });
}

async function httpPlan(plan) {
  const now = clock();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen = await httpRequest(plan, plan.url, agent, now);
  if (plan.followup) {
    seen.followup = await httpRequest({ timeout: plan.timeout }, plan.followup, agent, now);
  }
  agent.destroy();
  return seen;
}

async function fetchPlan(plan) {
  const now = clock();
  const seen = { status: null, headers: null, body: '', error: null, endedAt: null };
  const options = { method: plan.method || 'GET', headers: plan.headers || {}, signal: AbortSignal.timeout(plan.timeout || 3000) };
  if (plan.body) options.body = plan.body;
  if (plan.expect) options.headers = { ...options.headers, expect: '100-continue' };
  try {
    const response = await fetch(plan.url, options);
    seen.status = response.status;
    seen.headers = Object.fromEntries(response.headers);
    seen.body = await response.text();
  } catch (error) {
    Object.assign(seen, describe(error));
  }
  seen.endedAt = now();
  if (plan.followup) {
    try {
      const response = await fetch(plan.followup, { signal: AbortSignal.timeout(plan.timeout || 3000) });
      seen.followup = { status: response.status, body: await response.text(), error: null };
    } catch (error) {
      seen.followup = { status: null, body: '', ...describe(error) };
    }
  }
  return seen;
}

// A WebSocket session: send `send` once open, close (1000) after `closeAfter` messages, give up at `timeout`.
function wsPlan(plan) {
  return new Promise((resolve) => {
    const now = clock();
    const seen = { open: false, protocol: null, extensions: null, messages: [], error: null, closeCode: null,
      closeReason: null, wasClean: null, endedAt: null };
    let socket;
    const finish = () => { clearTimeout(timer); seen.endedAt = now(); resolve(seen); };
    const timer = setTimeout(() => { seen.error = seen.error || 'timeout'; try { socket.close(); } catch (e) { /* closing */ } finish(); }, plan.timeout || 3000);
    try {
      socket = new WebSocket(plan.url, plan.protocols || []);
    } catch (error) {
      Object.assign(seen, describe(error));
      finish();
      return;
    }
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      seen.open = true;
      seen.protocol = socket.protocol;
      seen.extensions = socket.extensions;
      for (const message of plan.send || []) socket.send(message);
      if (plan.closeAfter === 0) socket.close(1000, 'done');
    };
    socket.onmessage = (event) => {
      const data = event.data;
      seen.messages.push(typeof data === 'string' ? { text: data } : { hex: Buffer.from(data).toString('hex') });
      if (plan.closeAfter && seen.messages.length >= plan.closeAfter) socket.close(1000, 'done');
    };
    socket.onerror = (event) => { seen.error = seen.error || (event.error && event.error.message) || event.message || 'error'; };
    socket.onclose = (event) => {
      seen.closeCode = event.code;
      seen.closeReason = event.reason;
      seen.wasClean = event.wasClean;
      finish();
    };
  });
}

const RUNNERS = { http: httpPlan, fetch: fetchPlan, ws: wsPlan };

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const plans = JSON.parse(input);
  const results = await Promise.all(plans.map(async (plan) => {
    try {
      return { mark: plan.mark, seen: await RUNNERS[plan.client || 'http'](plan) };
    } catch (error) {
      return { mark: plan.mark, seen: { driverError: String(error && error.stack) } };
    }
  }));
  process.stdout.write(JSON.stringify(results) + '\n');
  process.exit(0);
}

main();
