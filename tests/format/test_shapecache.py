"""The cache of files whose shape was found valid: a hit skips the JSON Schema pass and
nothing else; a file with a problem is never kept, so its problems come back every time."""

from __future__ import annotations

import pytest

from mockorigin.format import loader, shapecache
from mockorigin.format.loader import LoadError, load_paths

VALID = "name: hello\nmatch: {path: /hello}\nscript:\n  - respond: {status: 200, body: hi}\n"
MISSPELT = "name: hello\nmatch: {path: /hello}\nscript:\n  - respond: {status: 200, bdy: hi}\n"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("MOCKORIGIN_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def schema_passes(monkeypatch):
    """How many documents went through the JSON Schema pass."""
    seen = []
    real = loader.shape_problems

    def counted(document):
        seen.append(document)
        return real(document)

    monkeypatch.setattr(loader, "shape_problems", counted)
    return seen


def test_a_valid_file_is_checked_once_then_known(tmp_path, cache_dir, schema_passes):
    (tmp_path / "hello.yaml").write_text(VALID)
    first = load_paths([str(tmp_path / "hello.yaml")])
    second = load_paths([str(tmp_path / "hello.yaml")])
    assert len(schema_passes) == 1
    assert first == second and first[0].name == "hello"
    assert len((cache_dir / "valid-shapes").read_text().split()) == 1


def test_a_file_with_a_shape_problem_is_reported_every_time(tmp_path, cache_dir, schema_passes):
    path = tmp_path / "hello.yaml"
    path.write_text(MISSPELT)
    messages = []
    for _ in range(2):
        with pytest.raises(LoadError) as refused:
            load_paths([str(path)])
        messages.append(str(refused.value))
    assert len(schema_passes) == 2
    assert messages[0] == messages[1] and "hello.yaml:4:" in messages[0] and "bdy" in messages[0]
    assert not (cache_dir / "valid-shapes").exists()


def test_changed_bytes_are_checked_again(tmp_path, cache_dir, schema_passes):
    path = tmp_path / "hello.yaml"
    path.write_text(VALID)
    load_paths([str(path)])
    path.write_text(MISSPELT)  # a hit on the name alone would let this through
    with pytest.raises(LoadError):
        load_paths([str(path)])
    assert len(schema_passes) == 2


def test_a_different_schema_is_a_different_key(tmp_path, cache_dir, monkeypatch):
    cache = shapecache.ShapeCache.default()
    key = cache.key(VALID.encode())
    other_schema = tmp_path / "schema.json"
    other_schema.write_text("{}")
    monkeypatch.setattr(shapecache, "_SCHEMA", str(other_schema))
    assert shapecache.ShapeCache.default().key(VALID.encode()) != key


def test_off_keeps_nothing(tmp_path, monkeypatch, schema_passes):
    monkeypatch.setenv("MOCKORIGIN_CACHE_DIR", "off")
    (tmp_path / "hello.yaml").write_text(VALID)
    load_paths([str(tmp_path / "hello.yaml")])
    load_paths([str(tmp_path / "hello.yaml")])
    assert len(schema_passes) == 2


def test_a_cache_path_that_is_a_file_is_no_cache(tmp_path, monkeypatch, schema_passes):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MOCKORIGIN_CACHE_DIR", str(blocker / "cache"))  # cannot be made under a file, even by root
    (tmp_path / "hello.yaml").write_text(VALID)
    assert load_paths([str(tmp_path / "hello.yaml")])[0].name == "hello"
    assert load_paths([str(tmp_path / "hello.yaml")])[0].name == "hello"
    assert len(schema_passes) == 2


def test_it_starts_again_past_its_bound(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setattr(shapecache, "MAX_KEPT", 3)
    cache = shapecache.ShapeCache.default()
    for number in range(5):
        cache.remember(cache.key(f"{number}".encode()))
    kept = (cache_dir / "valid-shapes").read_text().split()
    assert 1 <= len(kept) <= 3 and cache.key(b"4") in kept


def test_the_catalogue_loads_the_same_from_the_cache(cache_dir):
    checked = load_paths([loader.catalogue_path()])
    known = load_paths([loader.catalogue_path()])
    assert checked == known and len(known) >= 100
