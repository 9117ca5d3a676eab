"""BillingQueries is composed of mixins; a method of one must never silently replace another's.

Two mixins once each defined a private `_claims` and `_page`: the method resolution order
picked one, and the other's queries answered with the wrong rows until someone noticed.
"""

from __future__ import annotations

from projections.queries import BillingQueries


def defined_by(cls: type) -> dict[str, list[str]]:
    """Each method, property or class attribute name -> the classes of `cls`'s MRO defining it."""
    where: dict[str, list[str]] = {}
    for klass in cls.__mro__:
        if klass is object:
            continue
        for name, value in vars(klass).items():
            if name.startswith("__") or not (
                    callable(value) or isinstance(value, staticmethod | classmethod | property)):
                continue
            where.setdefault(name, []).append(klass.__name__)
    return where


def test_no_two_parts_of_the_read_api_define_the_same_method() -> None:
    clashes = {name: owners for name, owners in defined_by(BillingQueries).items()
               if len(owners) > 1}
    assert clashes == {}


def test_the_check_sees_a_clash_between_two_mixins() -> None:
    class One:
        def _rows(self) -> int:
            return 1

    class Two:
        def _rows(self) -> int:
            return 2

    class Both(One, Two):
        pass

    assert defined_by(Both)["_rows"] == ["One", "Two"]
