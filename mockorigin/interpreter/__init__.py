"""The interpreter: a behaviour's steps in, protocol-neutral commands out.

Theory of operation. When a request head has arrived, the wire protocol builds a
``Request`` (``request.py``), asks the ``ServerState`` which behaviour's script
answers it (``state.py``, ``router.py``), and starts ``run(steps, exchange)``: a
generator of commands (``commands.py``). The wire protocol carries out each
command before asking for the next, and feeds back what only it can see (body
bytes arriving, a timer firing, the client leaving) through the ``Exchange`` and
by resuming the generator.

The commands say *what* happens, never how it is framed: "an interim 102 with
these headers", "the final head", "these body bytes", "the end of a chunked
body", "wait 2 s", "close", "reset". HTTP/1.1 renders them as status lines and
chunks; HTTP/2 would render the same script as HEADERS and DATA frames. Only
``Raw`` carries wire bytes, on purpose: it is the escape hatch for malformed
messages. Nothing here imports Twisted, reads a clock or touches a socket.
"""

from mockorigin.interpreter.commands import Command
from mockorigin.interpreter.exchange import NO_PARAMS, Exchange, ParamError, resolve_params
from mockorigin.interpreter.request import EMPTY_BODY_SHA256, Body, Request
from mockorigin.interpreter.runner import Script, run, stage_name
from mockorigin.interpreter import websocket_steps  # noqa: F401,I001 - registers the upgrade and WebSocket steps
from mockorigin.interpreter import wire_steps  # noqa: F401,I001 - registers the h2 and tls steps

__all__ = ["EMPTY_BODY_SHA256", "NO_PARAMS", "Body", "Command", "Exchange", "ParamError", "Request", "Script", "resolve_params", "run", "stage_name"]
