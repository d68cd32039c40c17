"""TLS listeners from endpoint strings: which ones speak TLS, and with which key files.

``ssl:`` endpoints always do; with ``--tls``, ``tcp:``, ``tcp6:`` and ``unix:`` ones
do too. Twisted's own ``ssl:`` endpoint offers no ALPN and needs key files, so an
``ssl:`` string is listened on as the ``tcp:`` string with the same port,
interface and backlog, and TLS (ALPN included) is added here: with the
``privateKey``/``certKey`` files it names, else with the server's certificate
(``--tls-cert``, or the one made at start).
"""

from __future__ import annotations

_TLS_ONLY = {"privatekey", "certkey"}
_LISTEN_KEYS = {"port", "interface", "backlog"}
_WRAPPABLE = {"tcp", "tcp6", "unix"}


class EndpointProblem(ValueError):
    pass


def plan(description: str, args: list[str], kwargs: dict[str, str], tls_all: bool) -> tuple[str, tuple[str | None, str | None] | None]:
    """(the endpoint string to listen on, the (certificate, key) files for TLS or None for no TLS;
    (None, None): TLS with the server's own certificate). ``args`` and ``kwargs``: the
    description as Twisted splits it."""
    kind = args[0].lower() if args else ""
    if kind != "ssl":
        return description, ((None, None) if tls_all and kind in _WRAPPABLE else None)
    unknown = sorted(k for k in kwargs if k.lower() not in _TLS_ONLY | _LISTEN_KEYS)
    if unknown:
        raise EndpointProblem(f"ssl: endpoints here take port, interface, backlog, privateKey and certKey; not {', '.join(unknown)}")
    lowered = {k.lower(): v for k, v in kwargs.items()}
    key, cert = lowered.get("privatekey"), lowered.get("certkey")
    if cert is not None and key is None:
        raise EndpointProblem("certKey needs privateKey")
    plain = {k: v for k, v in kwargs.items() if k.lower() in _LISTEN_KEYS}
    return _join(["tcp", *args[1:]], plain), ((cert or key, key) if key is not None else (None, None))


def _join(args: list[str], kwargs: dict[str, str]) -> str:
    fields = [_escape(a) for a in args] + [f"{_escape(k)}={_escape(v)}" for k, v in kwargs.items()]
    return ":".join(fields)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")
