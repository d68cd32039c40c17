"""WebSocket after a 101: client frames read strictly, server frames written as scripted.

Theory of operation. Once a script's ``upgrade`` step has sent the 101, the
connection hands every byte it reads to ``mode.WebSocketMode``, which feeds the
``session.Session`` (wsproto parses client frames; a small header reader logs
each one for the journal, mask bit included) and answers only what the script
allows: an ``echo`` step echoes messages and answers pings, a ``receive`` step
waits for messages, anything else waits within bounds. Frames the script sends
are written by ``frames.frame`` exactly as described, lies included. The
handshake itself (may this request be upgraded? which accept token?) is the
interpreter's (``interpreter.upgrade``). No Twisted import here.
"""
