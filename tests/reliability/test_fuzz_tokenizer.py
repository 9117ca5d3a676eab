"""Hostile X12 for the tokenizer: mutated real files either tokenize or raise X12SyntaxError."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.x12.segments import X12SyntaxError, decode, tokenize

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "domain-examples"
SEEDS = sorted(p for p in [*CORPUS.rglob("*"), *EXAMPLES.glob("*.x12")]
               if p.is_file() and p.suffix not in (".tsv", ".md", ".997"))[:60]

mutation = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.integers(1, 40)),
    st.tuples(st.just("insert"), st.integers(0, 10_000),
              st.sampled_from(["~", "*", ":", "^", "\n", "\x00", "ISA", "IEA*1*1~", "é", "\ufeff",
                               "-99999999999999999999", "SE*0*0001~", "*" * 50])),
    st.tuples(st.just("truncate"), st.integers(0, 10_000), st.just(0)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS) if SEEDS else st.nothing(),
       mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_files_never_crash_the_tokenizer(seed: Path, mutations: list[tuple]) -> None:  # type: ignore[type-arg]
    text = seed.read_bytes()
    for kind, offset, arg in mutations:
        at = offset % max(len(text), 1)
        if kind == "delete":
            text = text[:at] + text[at + arg:]
        elif kind == "insert":
            text = text[:at] + str(arg).encode() + text[at:]
        else:
            text = text[:at]
    try:
        _, segments = tokenize(decode(text, seed.name), seed.name)
    except X12SyntaxError as error:
        assert seed.name in str(error)
    else:
        assert segments[-1].id == "IEA"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_are_refused_cleanly(data: bytes) -> None:
    try:
        tokenize(decode(data, "random.x12"), "random.x12")
    except X12SyntaxError as error:
        assert "random.x12" in str(error)
