"""The check that every catalogue entry was driven by three client families reads what the
driving tests recorded, so it runs after them, whatever order the files sort in."""

from __future__ import annotations

LAST = "test_every_entry_is_driven_by_three_client_families"


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.name == LAST)
