"""HTTP/2 on the wire: the same scripts as HTTP/1.1, rendered as frames.

``select`` chooses the wire of each connection (ALPN, or the HTTP/2 preface on a
cleartext connection) and is what every listener serves; ``connection`` is the
HTTP/2 protocol (the h2 library's events, flow control, GOAWAY and closes);
``stream`` runs one script per stream, one handler per interpreter command;
``response`` knows what went out on a stream and when it is whole; ``request``
builds the interpreter's ``Request`` from HEADERS and picks the script;
``frames`` writes the frames a script asks for that the h2 library refuses.
"""

from mockorigin.http2.select import WireFactory

__all__ = ["WireFactory"]
