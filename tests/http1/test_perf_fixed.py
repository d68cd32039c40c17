"""A fixed response's message is kept for the rest of its second (its Date changes no more
often): what is kept must be what would be formatted afresh, whatever the order of calls."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mockorigin.format.loader import load_text
from mockorigin.http1.fixed import fixed_response


def fresh(fixed, now: float, head_only: bool) -> bytes:
    return fixed.head(now) + (b"" if head_only else fixed.body)


@given(
    size=st.sampled_from([0, 2, 16 * 1024, 16 * 1024 + 1, 100_000]),
    calls=st.lists(st.tuples(st.floats(min_value=0, max_value=3 * 86400, allow_nan=False), st.booleans()), min_size=1, max_size=8),
)
def test_a_kept_message_is_the_one_formatted_afresh(size, calls):
    (behaviour,) = load_text(f"script: [{{respond: {{status: 200, body: '{'x' * size}'}}}}]")
    fixed = fixed_response(behaviour.scripts[0][0])
    assert fixed is not None
    for now, head_only in calls:
        assert fixed.message(now, head_only) == fresh(fixed, now, head_only)


def test_the_date_moves_on_with_the_second():
    (behaviour,) = load_text("script: [{respond: {status: 200, body: ok}}]")
    fixed = fixed_response(behaviour.scripts[0][0])
    first, same, next_second = (fixed.message(now, False) for now in (86400.0, 86400.999, 86401.0))
    assert first == same and first != next_second
    assert b"Date: Fri, 02 Jan 1970 00:00:01 GMT\r\n" in next_second and next_second.endswith(b"\r\n\r\nok")
