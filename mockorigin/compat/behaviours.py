"""Behaviours the compatibility cases need that the catalogue does not hold yet.

Served beside the catalogue under ``/compat/``, each named ``compat-...`` so that no
catalogue entry can collide with them. Interims here are sent even to HTTP/1.0
requests (``to_http10: true``): a proxy that speaks HTTP/1.0 upstream (nginx's
default) must still be shown what it does with the 1xx real origins send it.
Each entry is meant to move to ``behaviours/`` once the catalogue grows one like it;
the cases refer to paths only, so moving one is a change of path in ``cases.py``.
Final bodies after interims carry the case token (``mo_case``), so client-check can tell
from a command's output whether the final response reached it.
"""

from __future__ import annotations

EXTRA_BEHAVIOURS = r"""
name: compat-processing
summary: count x 102 Processing (each with Status-URI) `every` apart, also to HTTP/1.0, then 200 after one more `every`.
references: ["RFC 2518 §10.1", "RFC 9110 §15.2"]
match: {path: /compat/processing}
params:
  count: {type: integer, default: 3, min: 1, max: 1000}
  every: {type: duration, default: 300ms, max: 120s}
script:
  - interim: {status: 102, count: "${count}", every: "${every}", to_http10: true, headers: {status-uri: "102 </compat/status/${n}>"}}
  - wait: ${every}
  - respond: {status: 200, headers: {content-type: text/plain}, body: "done after ${count} x 102 ${request.query.mo_case}\n"}
---
name: compat-early-hints
summary: 103 Early Hints with two Link headers (also to HTTP/1.0), `after` of silence, then 200.
references: ["RFC 8297 §2", "RFC 9110 §15.2"]
match: {path: /compat/early-hints}
params:
  after: {type: duration, default: 300ms, max: 120s}
script:
  - interim:
      status: 103
      to_http10: true
      headers: {link: ["</style.css>; rel=preload; as=style", "</script.js>; rel=preload; as=script"]}
  - wait: ${after}
  - respond: {status: 200, headers: {content-type: text/html}, body: "<!doctype html><p>after 103 ${request.query.mo_case}</p>\n"}
---
name: compat-unknown-1xx
summary: An unregistered 199 interim (also to HTTP/1.0), `after` of silence, then 200.
references: ["RFC 9110 §15.2 (an unknown 1xx is interim)"]
match: {path: /compat/unknown-1xx}
params:
  after: {type: duration, default: 300ms, max: 120s}
script:
  - interim: {status: 199, reason: Odd Interim, to_http10: true}
  - wait: ${after}
  - respond: {status: 200, headers: {content-type: text/plain}, body: "after 199 ${request.query.mo_case}\n"}
---
name: compat-multi-1xx
summary: An unsolicited 100, then 102, then 103, `gap` apart (also to HTTP/1.0), then 200.
references: ["RFC 9110 §15.2", "envoy#11433"]
match: {path: /compat/multi-1xx}
params:
  gap: {type: duration, default: 200ms, max: 120s}
script:
  - interim: {status: 100, to_http10: true}
  - wait: ${gap}
  - interim: {status: 102, to_http10: true}
  - wait: ${gap}
  - interim: {status: 103, to_http10: true, headers: {link: "</style.css>; rel=preload; as=style"}}
  - wait: ${gap}
  - respond: {status: 200, headers: {content-type: text/plain}, body: "after 100, 102, 103 ${request.query.mo_case}\n"}
---
name: compat-100-then-close
summary: 100 Continue (also to HTTP/1.0), then a graceful close with no final response.
references: ["RFC 9110 §15.2.1", "RFC 9112 §9.6"]
match: {path: /compat/100-then-close}
script:
  - read_body: {}
  - interim: {status: 100, to_http10: true}
  - close: {}
---
name: compat-interim-to-http10
summary: 100 Continue even to an HTTP/1.0 request (which RFC 9110 §15.2 forbids), then 200.
references: ["RFC 9110 §15.2 (MUST NOT send a 1xx to an HTTP/1.0 client)"]
match: {path: /compat/interim-to-http10}
script:
  - read_body: {}
  - interim: {status: 100, to_http10: true}
  - respond: {status: 200, headers: {content-type: text/plain}, body: "after an interim\n"}
---
name: compat-101-no-upgrade
summary: 101 Switching Protocols to a request that asked for no upgrade, 18 bytes that are not HTTP, then close.
references: ["RFC 9110 §7.8 (MUST NOT switch to a protocol the client did not ask for)"]
match: {path: /compat/101-no-upgrade}
script:
  - read_body: {}
  - raw: "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nnot http, not ws!\n"
  - close: {}
---
name: compat-hang-after-bytes
summary: A 200 head announcing 10 bytes, `bytes` of them, then silence.
references: ["RFC 9112 §8 (incomplete messages)"]
match: {path: /compat/hang-after-bytes}
params:
  bytes: {type: integer, default: 3, min: 0, max: 9}
script:
  - read_body: {}
  - head: {status: 200, headers: {content-type: text/plain, content-length: 10}}
  - body: {size: "${bytes}"}
  - hang: {}
---
name: compat-reset-request
summary: Reads the request, then resets the connection (RST) before any response byte.
references: ["RFC 9112 §9.6", "RFC 9293 §3.5.2"]
match: {path: /compat/reset-request}
script:
  - read_body: {}
  - reset: {}
---
name: compat-reset-mid-body
summary: A 200 head announcing 10 bytes, 5 of them, then a reset (RST).
references: ["RFC 9112 §8", "RFC 9293 §3.5.2"]
match: {path: /compat/reset-mid-body}
script:
  - read_body: {}
  - head: {status: 200, headers: {content-type: text/plain, content-length: 10}}
  - body: "12345"
  - wait: 50ms
  - reset: {}
---
name: compat-drip-chunked
summary: A chunked 200 whose body of `bytes` bytes comes one byte (one chunk) at a time, `every` apart.
references: ["RFC 9112 §7.1", "requests#4276"]
match: {path: /compat/drip-chunked}
params:
  bytes: {type: size, default: 20, max: 1MiB}
  every: {type: duration, default: 100ms, max: 60s}
script:
  - read_body: {}
  - respond: {status: 200, headers: {content-type: text/plain}, body_size: "${bytes}", chunked: true, drip: {bytes: 1, every: "${every}"}}
"""
