"""A local certificate authority and a server certificate for loopback, made at start.

Made with ``cryptography`` (already installed with ``twisted[tls]``, through
pyOpenSSL), rather than ``trustme``: one dependency fewer, and the few choices
that matter here are ours to make and test. ECDSA P-256 keys, because a mock
server's handshakes per second are part of what a benchmark of a client
measures. The CA carries name constraints (RFC 5280 §4.2.1.10): it can vouch
for ``localhost``, ``*.localhost`` and loopback addresses only, so a CA file
that was trusted more widely than meant still cannot stand for another site.
Its private key lives in this process's memory only; no file ever holds it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import os
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DNS_NAMES = ("localhost", "*.localhost")
ADDRESSES = ("127.0.0.1", "::1")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
VALID_FOR = datetime.timedelta(days=30)
_PERMITTED = (
    x509.DNSName("localhost"),
    x509.DNSName(".localhost"),
    x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
    x509.IPAddress(ipaddress.ip_network("::1/128")),
)


@dataclass(frozen=True)
class Issued:
    """A CA certificate and a server certificate (with its key) that the CA signed, all PEM."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @property
    def spki_sha256(self) -> str:
        """Base64 SHA-256 of the server key's SubjectPublicKeyInfo: what Chromium's
        ``--ignore-certificate-errors-spki-list`` takes to trust this certificate."""
        return spki_sha256(self.cert_pem)


def issue(extra_names: tuple[str, ...] = (), now: datetime.datetime | None = None) -> Issued:
    """A fresh CA and a certificate for localhost, *.localhost, 127.0.0.1, ::1 and
    ``extra_names`` (``NAME.localhost`` for each handshake behaviour: OpenSSL's host name
    check, and so curl's and Python's, does not match ``*.localhost``, a wildcard right
    under a top-level name)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + VALID_FOR  # an hour back: clocks of clients in containers drift
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"mockorigin local CA {os.getpid()} {now:%Y-%m-%d %H:%M:%S}")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.NameConstraints(permitted_subtrees=list(_PERMITTED), excluded_subtrees=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(name) for name in dict.fromkeys(DNS_NAMES + tuple(extra_names))] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return Issued(
        ca_pem=ca.public_bytes(serialization.Encoding.PEM),
        cert_pem=leaf.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def handshake_names(behaviours) -> tuple[str, ...]:
    """``NAME.localhost`` for each behaviour whose script starts with a ``tls`` step (NAME a DNS label)."""
    from mockorigin.format import model

    return tuple(
        f"{b.name.lower()}.localhost" for b in behaviours
        if _LABEL.fullmatch(b.name.lower()) and any(script and isinstance(script[0], model.Tls) for script in b.scripts)
    )


def spki_sha256(cert_pem: bytes) -> str:
    """Base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo."""
    certificate = x509.load_pem_x509_certificate(cert_pem)
    spki = certificate.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def ca_path_for(ready_file: str | None) -> str | None:
    """Where the CA goes: beside the ready file, named after it (``ready.json`` -> ``ready.ca.pem``)."""
    if not ready_file:
        return None
    stem, _ext = os.path.splitext(os.path.abspath(ready_file))
    return stem + ".ca.pem"

