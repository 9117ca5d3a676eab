"""The results as a console table and as bench/RESULTS.md (machine, date, tables, findings).

RESULTS.md is rewritten on every run down to the line ``<!-- findings -->``; what follows it
(the profile findings and plans, written by people) is kept as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.figures import Figure

MARKER = "<!-- findings -->"


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit in ("ev/s", "claims/s") or abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def verdict(met: bool | None) -> str:
    return {True: "yes", False: "**NO**", None: ""}[met]


@dataclass
class Section:
    title: str
    figures: list[Figure]
    intro: str = ""


@dataclass
class Report:
    scale: str
    machine: dict[str, str]
    sections: list[Section] = field(default_factory=list)
    scaling: list[dict[str, str]] = field(default_factory=list)
    comparison: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    command: str = ""


def figure_rows(figures: Sequence[Figure]) -> list[list[str]]:
    rows = []
    for f in figures:
        value = f"{number(f.value, f.unit)} {f.unit}".strip() if f.available else "—"
        anchor = (f"{number(f.anchor, f.unit)} ({f.anchor_name})"
                  if f.anchor is not None else "—")
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "—"
        rows.append([f.name, value, anchor, ratio, f.target or "—", verdict(f.met), f.note])
    return rows


FIGURE_HEADER = ["figure", "value", "anchor (same run)", "ratio", "target", "met?", "notes"]
SCALING_HEADER = ["events", "appended ev/s", "raw executemany ev/s", "rebuild ev/s",
                  "raw read+decode ev/s", "rebuild RSS MB", "account query ms (50 visits)",
                  "notes"]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def clean(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(clean(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def console_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                  widths: Sequence[int] | None = None) -> str:
    """A plain text table; cells beyond `widths` are cut so it fits a terminal."""
    cols = len(header)
    limit = list(widths) if widths else [60] * cols
    cut = [[str(c)[:limit[i]] for i, c in enumerate(row)] for row in [header, *rows]]
    size = [max(len(r[i]) for r in cut) for i in range(cols)]
    out = []
    for n, row in enumerate(cut):
        out.append("  ".join(c.ljust(size[i]) for i, c in enumerate(row)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in size))
    return "\n".join(out)


def console(report: Report) -> str:
    parts = []
    for section in report.sections:
        parts.append(f"\n== {section.title} ==")
        parts.append(console_table(FIGURE_HEADER[:6], [r[:6] for r in
                                                       figure_rows(section.figures)],
                                   [52, 18, 40, 7, 16, 6]))
        for f in section.figures:
            if f.note:
                parts.append(f"  - {f.name}: {f.note}")
    if report.scaling:
        parts.append("\n== scaling ==")
        parts.append(console_table(SCALING_HEADER[:7],
                                   [[row.get(h, "") for h in SCALING_HEADER[:7]]
                                    for row in report.scaling]))
    if report.comparison:
        parts.append("\n== PostgreSQL vs SQLite ==")
        parts.append(console_table(report.comparison[0], report.comparison[1:],
                                   [52, 16, 16, 8, 50]))
    return "\n".join(parts)


def markdown(report: Report) -> str:
    m = report.machine
    out = [
        "# Benchmark results",
        "",
        "Written by `make bench`; this run: `"
        + (report.command or f".venv/bin/python -m bench --scale {report.scale}")
        + "`. Everything above the findings is regenerated on each run. "
        "Each figure is measured next to its anchor in the same run, so the ratio holds "
        "even when the machine is busy.",
        "",
        f"- **date**: {m.get('date')}; whole run {report.seconds / 60:.1f} min of wall time, "
        f"{report.cpu_seconds / 60:.1f} min of CPU time (this process and its workers; on a "
        "machine shared with other work the difference is mostly waiting for a core)",
        f"- **machine**: {m.get('cpu')}, {m.get('cores')} cores, {m.get('ram')} RAM, "
        f"{m.get('os')}; load average at start {m.get('load average at start')}",
        f"- **software**: Python {m.get('python')}, SQLite {m.get('sqlite')}, eventsourcing "
        f"{m.get('eventsourcing')}, textual {m.get('textual')}, pyx12 {m.get('pyx12')}"
        + (f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else ""),
        "",
    ]
    for section in report.sections:
        out += [f"## {section.title}", ""]
        if section.intro:
            out += [section.intro, ""]
        out += [markdown_table(FIGURE_HEADER, figure_rows(section.figures)), ""]
    if report.scaling:
        out += ["## Scaling (SQLite)", "",
                "Separate ledgers of each size, same generator and mix. Appends and rebuilds "
                "should stay level in events/s (cost linear in events); the account query "
                "reads one account of 50 visits and should stay flat.", "",
                markdown_table(SCALING_HEADER, [[row.get(h, "") for h in SCALING_HEADER]
                                                for row in report.scaling]), ""]
    if report.comparison:
        out += ["## PostgreSQL next to SQLite", "",
                markdown_table(report.comparison[0], report.comparison[1:]), ""]
    if report.notes:
        out += ["## Notes from this run", ""] + [f"- {n}" for n in report.notes] + [""]
    if report.profiles:
        out += ["## Profiles of missed targets (pyinstrument, this run)", ""]
        for title, text in report.profiles:
            out += [f"### {title}", "", "```", text.rstrip(), "```", ""]
    return "\n".join(out)


def write_results(path: Path, report: Report) -> None:
    kept = ""
    if path.exists():
        old = path.read_text()
        if MARKER in old:
            kept = old[old.index(MARKER):]
    if not kept:
        kept = (f"{MARKER}\n## Findings and plans\n\n"
                "(Written by people after reading the profiles above; kept across runs.)\n")
    path.write_text(markdown(report) + "\n" + kept)
