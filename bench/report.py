"""The targets of `make bench`, and the table it prints: each figure with its target and whether it is met.

Two kinds of target: the project's new ones, and the standing figures of the README's
table (measured before the restructuring into layers), which no change may fall below.
"""

from __future__ import annotations

TARGETS = {
    "a": "mockorigin / bare Twisted >= 0.72 (standing)",
    "a_now": "mockorigin / bare Twisted sending at once >= 0.6",
    "b": "p99 <= 1.5x bare",
    "c": "< 2.5 KiB",
    "d": "<= 1.1x a bare Twisted start (standing: 0.28 s)",
    "e": "on / off >= 0.75",
    "f_start": "<= 0.30 s (standing)",
    "f_reset": "median <= 0.29 ms (standing)",
    "g_1": ">= 0.98 (standing)",
    "g_many": ">= 0.87 (standing)",
}


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def lines(results: dict, connections: int) -> list[str]:
    a, b, c, d = results["a_throughput"], results["b_lateness"], results["c_memory_kib_per_hanging_connection"], results["d_launch_to_ready_s"]
    e, f, g = results["e_journal"], results["f_fixture"], results["g_websocket_echo"]
    out = [
        f"(a) keep-alive req/s ({a['tool']}): mockorigin {a['mockorigin_rps']:.0f}, bare Twisted {a['bare_rps']:.0f}, "
        f"ratio {a['ratio']:.2f} (target {TARGETS['a']}: {_verdict(a['ratio'] >= 0.72)})",
        f"    bare Twisted sending at once as mockorigin does (tcpwrite.write_now): {a['bare_sending_at_once_rps']:.0f}, "
        f"ratio {a['ratio_to_bare_sending_at_once']:.2f} (target {TARGETS['a_now']}: {_verdict(a['ratio_to_bare_sending_at_once'] >= 0.6)})",
    ]
    for mode, label in (("continue", "100 Continue after 200 ms"), ("processing", "102 every 100 ms")):
        m, bare = b[mode]["mockorigin"], b[mode]["bare"]
        out.append(
            f"(b) lateness of {label}, {connections} in flight: mockorigin p50 {m['p50'] * 1000:.1f} ms p99 {m['p99'] * 1000:.1f} ms max {m['max'] * 1000:.1f} ms; "
            f"bare p50 {bare['p50'] * 1000:.1f} p99 {bare['p99'] * 1000:.1f} max {bare['max'] * 1000:.1f}; "
            f"p99 ratio {b[mode]['p99_ratio']:.2f} (target {TARGETS['b']}: {_verdict(b[mode]['p99_ratio'] <= 1.5)})"
        )
    out.append(
        f"(c) memory per hanging connection ({c['connections']}): mockorigin {c['mockorigin']:.2f} KiB, bare Twisted {c['bare']:.2f} KiB "
        f"(target {TARGETS['c']}: {_verdict(c['mockorigin'] < 2.5)})"
    )
    out.append(
        f"(d) launch to ready file: mockorigin median {d['median']:.3f} s (max {d['max']:.3f} s), bare Twisted start {d['bare_twisted_start']:.3f} s, "
        f"ratio {d['ratio']:.2f}; python -c pass {d['python_startup']:.3f} s (target {TARGETS['d']}: {_verdict(d['ratio'] <= 1.1)})"
    )
    out.append(
        f"(e) req/s with the journal on (ring + JSON-lines file): {e['on_rps']:.0f}, off: {e['off_rps']:.0f}, ratio {e['ratio']:.2f} "
        f"(target {TARGETS['e']}: {_verdict(e['ratio'] >= 0.75)})"
    )
    out.append(
        f"(f) pytest fixture: first start {f['first_start_s']:.3f} s (target {TARGETS['f_start']}: {_verdict(f['first_start_s'] <= 0.30)}); "
        f"reset per test median {f['reset_median_s'] * 1000:.2f} ms, p99 {f['reset_p99_s'] * 1000:.2f} ms, after use() {f['reset_after_use_median_s'] * 1000:.2f} ms "
        f"(target {TARGETS['f_reset']}: {_verdict(f['reset_median_s'] <= 0.29e-3)})"
    )
    for key, target in (("1_connections", "g_1"), (f"{connections}_connections", "g_many")):
        value = g[key]
        threshold = 0.98 if target == "g_1" else 0.87
        out.append(
            f"(g) WebSocket echo messages/s, {key.replace('_', ' ')}: mockorigin {value['mockorigin']:.0f}, twisted.web.websocket {value['twisted_web_websocket']:.0f}, "
            f"ratio {value['ratio']:.2f} (target {TARGETS[target]}: {_verdict(value['ratio'] >= threshold)})"
        )
    for row in results.get("tls", ()):
        shown = ["skipped (tool missing)" if value is None else f"{value:,.0f}" for value in (row["mockorigin"], row["baseline"])]
        out.append(f"(h) {row['figure']}: mockorigin {shown[0]}, {row['baseline_kind']} {shown[1]}, ratio {row['ratio']} (no target yet: a first figure)")
    if "instructions_per_request" in results:
        counts = results["instructions_per_request"]
        out.append("callgrind, the server's instructions per sequential keep-alive request: " + ", ".join(f"{kind} {count:,.0f}" for kind, count in counts.items()))
    return out
