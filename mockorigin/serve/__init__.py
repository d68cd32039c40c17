"""Serving: listeners wired to the HTTP/1.1 protocol, the control API, reloads, the daemon.

Theory of operation. ``service.OriginService`` is one Twisted ``Service``: it
listens on every endpoint (the HTTP/1.1 factory for the origin, the control
API's site for ``--admin``), writes the ready file, and stops gracefully:
listeners close at once, running scripts get the grace period, the rest is
reset. ``admin`` is the control API (its HTTP guards and early refusals in
``admin_http``, its strict JSON in ``admin_json``); ``reload`` polls behaviour
files for ``--watch``; ``daemon`` detaches, keeps the pidfile and stops what it
started. Nothing below this package imports it.
"""
