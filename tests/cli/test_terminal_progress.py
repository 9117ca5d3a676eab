"""The count a long rebuild shows on a terminal: redrawn in place, not too often, ended."""

from __future__ import annotations

import io

from tui.cli.wiring import terminal_progress


def test_the_count_is_redrawn_at_most_every_half_second_and_ends_with_a_newline() -> None:
    out = io.StringIO()
    now = [100.0]
    show = terminal_progress(out, every=0.5, clock=lambda: now[0])

    show(5_000, 20_000, "folding")
    now[0] += 0.2
    show(10_000, 20_000, "folding")            # too soon after the last: not drawn
    now[0] += 0.4
    show(15_000, 20_000, "folding")
    now[0] += 0.1
    show(20_000, 20_000, "folding")            # the last page is always drawn
    show(20_000, 20_000, "indexing")
    show(20_000, 20_000, "done")

    line = "\rbuilding the read models: "
    assert out.getvalue() == (
        f"{line}5,000 of 20,000 events (25%)"
        f"{line}15,000 of 20,000 events (75%)"
        f"{line}20,000 of 20,000 events (100%)"
        f"{line}20,000 events, indexing them  "     # padded over the longer line before
        f"{line}20,000 events, done         \n")


def test_a_rebuild_too_short_to_report_a_page_shows_nothing() -> None:
    out = io.StringIO()
    show = terminal_progress(out)

    show(900, 900, "indexing")
    show(900, 900, "done")

    assert out.getvalue() == ""
