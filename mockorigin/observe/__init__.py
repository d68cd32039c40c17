"""Observation: what crossed the wire for each exchange, and what it says about the client.

Theory of operation. The wire protocol fills an ``ExchangeRecord`` (``record.py``)
as bytes arrive and leave: raw clock readings in slots, nothing formatted. When
the exchange ends the record goes to the ``Journal`` (``journal.py``), a bounded
ring that builds the JSON entry only when something reads it: the control API,
a JSON-lines file (``journalfile.py``, rotated), the pytest handles. ``facts.py``
derives the answers client authors ask for. ``control.py`` reads the journal of
a running server over its control API. Nothing here touches a socket or knows a
wire format.
"""
