"""The count a long rebuild shows on a terminal: redrawn in place, not too often, ended."""

from __future__ import annotations

import io

from tui.cli.wiring import terminal_progress


def test_the_count_is_redrawn_at_most_every_half_second_and_ends_with_a_newline() -> None:
    out = io.StringIO()
    now = [100.0]
    show = terminal_progress(out, every=0.5, clock=lambda: now[0])

    show(5_000, 20_000)
    now[0] += 0.2
    show(10_000, 20_000)            # too soon after the last: not drawn
    now[0] += 0.4
    show(15_000, 20_000)
    now[0] += 0.1
    show(20_000, 20_000)            # the last is always drawn

    assert out.getvalue() == (
        "\rbuilding the read models: 5,000 of 20,000 events (25%)"
        "\rbuilding the read models: 15,000 of 20,000 events (75%)"
        "\rbuilding the read models: 20,000 of 20,000 events (100%)\n")
