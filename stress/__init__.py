"""The stress suite (issue #10): ``python -m stress`` attacks a real ``mockorigin serve``
on loopback, as a hostile client would, and keeps the defects it finds found.

Modules shared with the fast tests (``tests/test_stress_*.py``) import nothing but
the standard library and mockorigin: ``catalogue`` (a request per catalogue behaviour,
and the stages at which a client can leave), ``corpus`` (the files of ``tests/corpora/``)
and ``mutate`` (seeded mutations).
"""
