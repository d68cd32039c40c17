// A Node `ws` client that reports what it saw as one JSON line.
// Usage: node ws_client.js URL [message ...]
'use strict';
const WebSocket = require('ws');

const [url, ...messages] = process.argv.slice(2);
const seen = { open: false, received: [], pings: 0, error: null, closeCode: null };
const socket = new WebSocket(url, { handshakeTimeout: 5000 });
const done = () => { console.log(JSON.stringify(seen)); process.exit(0); };
const timer = setTimeout(() => { seen.error = seen.error || 'timeout'; done(); }, 8000);

socket.on('open', () => {
  seen.open = true;
  for (const message of messages) socket.send(message);
  if (messages.length === 0) return;
});
socket.on('message', (data, isBinary) => {
  seen.received.push(isBinary ? `binary:${data.length}` : data.toString());
  if (seen.received.length >= messages.length && messages.length > 0) socket.close(1000, 'done');
});
socket.on('ping', () => { seen.pings += 1; });
socket.on('error', (error) => { seen.error = error.message; });
socket.on('close', (code) => { seen.closeCode = code; clearTimeout(timer); done(); });
