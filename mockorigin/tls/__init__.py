"""TLS for the listeners: a certificate made at start, ALPN, and closes the script chooses.

``certs`` makes a local CA and a certificate for loopback names; ``context`` holds
the OpenSSL side (the certificate, ALPN ``h2`` then ``http/1.1``, a behaviour's
own ALPN answer); ``clienthello`` reads the name a client asks for before OpenSSL
answers; ``transport`` is the TLS layer of one connection (handshake deadline and
behaviours, close_notify or not, RST); ``endpoints`` says which listeners speak TLS.
"""
