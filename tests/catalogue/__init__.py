"""Every catalogue entry, driven by real clients of at least three families (issue #12 §3)."""
