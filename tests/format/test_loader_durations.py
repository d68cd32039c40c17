"""A drip, repeated interims and repeated pings are bounded in all, not only per interval."""

from __future__ import annotations

import pytest

from mockorigin import limits
from mockorigin.format.loader import LoadError, load_paths, load_text


def problems(text: str) -> list[str]:
    with pytest.raises(LoadError) as caught:
        load_text(text, "b.yaml")
    return [str(p) for p in caught.value.problems]


def respond(fields: str, params: str = "") -> str:
    return f"name: d\n{params}script:\n  - respond: {{status: 200, {fields}}}\n"


def test_the_pure_functions_the_request_check_uses():
    assert limits.drip_duration(10, 1, 0.1) == pytest.approx(0.9)  # the first byte goes at once
    assert limits.drip_duration(10, 3, 2.0) == 6.0  # 3 + 3 + 3 + 1: four pieces, three gaps
    assert limits.drip_duration(0, 1, 60.0) == 0.0
    assert limits.drip_duration(10, 0, 0.0) == float("inf")  # 0 bytes at a time never ends
    assert limits.repeat_duration(3, 1.0) == 2.0
    assert limits.repeat_duration(1, 600.0) == 0.0
    assert limits.repeat_duration(0, 1.0) == 0.0


def test_a_drip_longer_than_the_limit_is_a_load_error_with_its_numbers():
    found = problems(respond("body_size: 64MiB, drip: {bytes: 1, every: 60s}"))
    assert found == ["b.yaml:3:52: this drip takes 4026531780s (67108864 bytes, 1 at a time, 60s apart); the limit is 600s"]


@pytest.mark.parametrize(
    "size,accepted",
    [(6001, True), (6011, False)],  # 601 pieces of 10 bytes: 600 gaps of 1 s; 602 pieces: 601 s
)
def test_the_bound_is_inclusive_and_counts_gaps_not_pieces(size, accepted):
    text = respond(f"body_size: {size}, drip: {{bytes: 10, every: 1s}}")
    if accepted:
        assert load_text(text)
    else:
        assert problems(text) == [f"b.yaml:3:51: this drip takes 601s ({size} bytes, 10 at a time, 1s apart); the limit is 600s"]


def test_every_kind_of_body_counts(tmp_path):
    assert problems(respond("body: 'hello, world', drip: {bytes: 1, every: 60s}")) == [
        "b.yaml:3:56: this drip takes 660s (12 bytes, 1 at a time, 60s apart); the limit is 600s"
    ]
    after_head = "name: d\nscript:\n  - head: 200\n  - body: {hex: '00 01 02 03 04 05 06 07 08 09 0a', drip: {every: 1m}}\n"
    assert load_text(after_head)  # 11 bytes: 10 gaps of 60 s, exactly the limit
    assert problems(after_head.replace("0a'", "0a 0b'")) == [
        "b.yaml:4:62: this drip takes 660s (12 bytes, 1 at a time, 60s apart); the limit is 600s"
    ]
    (tmp_path / "data.bin").write_bytes(b"x" * 1000)
    (tmp_path / "b.yaml").write_text(respond("body_file: data.bin, drip: {bytes: 1, every: 1s}"))
    with pytest.raises(LoadError) as caught:
        load_paths([str(tmp_path)])
    assert str(caught.value).endswith("b.yaml:3:55: this drip takes 999s (1000 bytes, 1 at a time, 1s apart); the limit is 600s")


def test_placeholders_in_a_text_body_count_as_empty_at_load():
    # at least 10 literal bytes, 9 gaps of 60 s = 540 s: the request check sees the real length
    assert load_text(respond("body: '0123456789${request.path}', drip: {bytes: 1, every: 60s}"))


def test_with_params_the_defaults_decide_at_load_and_the_maxima_are_left_to_each_request():
    params = "params:\n  size: {type: size, default: 10, max: 1MiB}\n  every: {type: duration, default: 100ms, max: 60s}\n"
    assert load_text(respond("body_size: '${size}', drip: {bytes: 1, every: '${every}'}", params))  # 0.9 s by default
    assert limits.drip_duration(1024 * 1024, 1, 60.0) > limits.MAX_DURATION  # ?size=1MiB&every=60s: refused per request
    slower = params.replace("default: 10,", "default: 12,").replace("default: 100ms", "default: 1m")
    assert problems(respond("body_size: '${size}', drip: {bytes: 1, every: '${every}'}", slower)) == [
        "b.yaml:6:56: this drip takes 660s (12 bytes, 1 at a time, 60s apart) with the params at their defaults (size=12, every=60s); the limit is 600s"
    ]


def test_a_drip_or_chunk_size_param_that_a_query_could_set_to_zero_is_refused():
    # ?bytes=0 made the script regroup the body into empty pieces forever, on the reactor
    param = "params:\n  n: {type: size, default: 1}\n"
    assert problems(respond("body: hello, drip: {bytes: '${n}', every: 0}", param)) == [
        "b.yaml:5:55: drip at least 1 byte at a time: give param 'n' `min: 1`"
    ]
    assert problems(respond("body: hello, chunked: {size: '${n}'}", param)) == [
        "b.yaml:5:57: a chunk size must be at least 1 byte: give param 'n' `min: 1`"
    ]
    assert load_text(respond("body: hello, drip: {bytes: '${n}', every: 0}", param.replace("default: 1", "default: 1, min: 1")))


def test_repeated_interims_are_bounded_in_all():
    interim = "name: p\nscript:\n  - interim: {{status: 102, count: {count}, every: 1s}}\n  - respond: 200\n"
    assert load_text(interim.format(count=601))  # 600 gaps of 1 s
    assert problems(interim.format(count=602)) == [
        "b.yaml:3:14: these 602 interims take 601s (601 gaps of 1s); the limit is 600s"
    ]
    params = "params:\n  count: {type: integer, default: 3, max: 1000}\n  every: {type: duration, default: 1s, max: 60s}\n"
    catalogue_like = f"name: p\n{params}script:\n  - interim: {{status: 102, count: '${{count}}', every: '${{every}}'}}\n  - respond: 200\n"
    assert load_text(catalogue_like)  # 2 s by default; ?count=1000&every=60s is for the request check
    assert limits.repeat_duration(1000, 60.0) > limits.MAX_DURATION


def test_repeated_pings_and_pongs_are_bounded_in_all():
    ws = "name: w\nscript:\n  - upgrade:\n      then:\n        - {kind}: {{payload: x, count: 1000, every: 1s}}\n"
    assert problems(ws.format(kind="ping")) == ["b.yaml:5:17: these 1000 pings take 999s (999 gaps of 1s); the limit is 600s"]
    assert problems(ws.format(kind="pong")) == ["b.yaml:5:17: these 1000 pongs take 999s (999 gaps of 1s); the limit is 600s"]
    assert load_text(ws.format(kind="ping").replace("every: 1s", "every: 600ms"))
