"""The server side of TLS: a certificate, and ALPN chosen per connection.

``ServerTLS`` makes one OpenSSL context (through Twisted's ``CertificateOptions``,
TLS 1.2 and up) and an OpenSSL connection per TCP connection. ALPN is chosen by
our own callback rather than Twisted's: it offers ``h2`` and ``http/1.1`` in the
server's order of preference, remembers what the client offered (for the
journal), and lets a handshake behaviour pick something else for its own
connection — no protocol at all, or one the client never offered (RFC 7301 §3.2
says the client must then abort: that is what such a behaviour tests).
"""

from __future__ import annotations

from OpenSSL import SSL, crypto
from twisted.internet.interfaces import IOpenSSLServerConnectionCreator
from twisted.internet.ssl import CertificateOptions, TLSVersion
from zope.interface import implementer

ALPN_PREFERENCE = (b"h2", b"http/1.1")
NO_ALPN = object()  # a behaviour's choice: answer without ALPN


class CertificateProblem(ValueError):
    """A certificate or key that cannot be used, in words."""


@implementer(IOpenSSLServerConnectionCreator)
class ServerTLS:
    """What every TLS listener of one certificate shares."""

    def __init__(self, cert_pem: bytes, key_pem: bytes, alpn: tuple[bytes, ...] = ALPN_PREFERENCE):
        try:
            certificate = crypto.load_certificate(crypto.FILETYPE_PEM, cert_pem)
            key = crypto.load_privatekey(crypto.FILETYPE_PEM, key_pem)
        except crypto.Error as error:
            raise CertificateProblem(f"not a PEM certificate and key: {_openssl_words(error)}") from None
        chain = [crypto.load_certificate(crypto.FILETYPE_PEM, block) for block in _pem_blocks(cert_pem)[1:]]
        try:
            options = CertificateOptions(privateKey=key, certificate=certificate, extraCertChain=chain, raiseMinimumTo=TLSVersion.TLSv1_2)
            self.context = options.getContext()
            self.context.check_privatekey()
        except (SSL.Error, ValueError) as error:
            raise CertificateProblem(f"the key does not match the certificate, or cannot be used: {_openssl_words(error)}") from None
        self.alpn = alpn
        self.context.set_alpn_select_callback(self._select_alpn)

    def serverConnectionForTLS(self, protocol) -> SSL.Connection:
        connection = SSL.Connection(self.context, None)
        connection.set_app_data(protocol)
        return connection

    def _select_alpn(self, connection: SSL.Connection, offered: list[bytes]) -> bytes:
        protocol = connection.get_app_data()
        override = getattr(protocol, "alpn_override", None)
        if protocol is not None:
            protocol.alpn_offered = [name.decode("latin-1") for name in offered]
        if override is NO_ALPN:
            return SSL.NO_OVERLAPPING_PROTOCOLS
        if override is not None:
            return override  # whatever the client offered: the behaviour asked for a mismatch
        for name in self.alpn:
            if name in offered:
                return name
        return SSL.NO_OVERLAPPING_PROTOCOLS  # no ALPN in the answer; the client falls back to HTTP/1.1


def load_pair(cert_path: str, key_path: str | None) -> tuple[bytes, bytes]:
    """A certificate (chain) file and its key file (the key may sit in the certificate file)."""
    try:
        with open(cert_path, "rb") as handle:
            cert_pem = handle.read(1024 * 1024)
        key_pem = cert_pem
        if key_path:
            with open(key_path, "rb") as handle:
                key_pem = handle.read(1024 * 1024)
    except OSError as error:
        raise CertificateProblem(f"cannot read {error.filename}: {error.strerror}") from None
    if b"PRIVATE KEY-----" not in key_pem:
        raise CertificateProblem(f"no private key in {key_path or cert_path} (give --tls-key, or privateKey= in the endpoint)")
    if b"-----BEGIN CERTIFICATE-----" not in cert_pem:
        raise CertificateProblem(f"no PEM certificate in {cert_path}")
    return cert_pem, key_pem


def _pem_blocks(pem: bytes) -> list[bytes]:
    marker = b"-----BEGIN CERTIFICATE-----"
    return [marker + part.split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n" for part in pem.split(marker)[1:]]


def _openssl_words(error: Exception) -> str:
    details = error.args[0] if error.args and isinstance(error.args[0], list) else None
    if details:
        return "; ".join(str(item[-1]) for item in details if item)
    return str(error) or type(error).__name__
