"""Human-facing identifiers: account numbers, encounter, claim and batch ids."""

from __future__ import annotations

import random
import secrets

# No I, O, 0 or 1: these ids are read over the phone and typed by billers.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class IdSource:
    """Random ids; seeded for a deterministic demo practice, from the OS otherwise."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng: random.Random = (
            random.Random(seed) if seed is not None else secrets.SystemRandom())

    def _chars(self, n: int) -> str:
        return "".join(self._rng.choice(_ALPHABET) for _ in range(n))

    def account_no(self) -> str:
        return f"A{self._rng.randrange(10**7, 10**8)}"

    def encounter_id(self) -> str:
        return f"V{self._chars(9)}"

    def claim_id(self) -> str:
        # CLM01: some payers cut the patient control number at 17 characters.
        return f"C{self._chars(10)}"

    def batch_id(self) -> str:
        return f"B{self._chars(9)}"

    def token(self, prefix: str) -> str:
        return f"{prefix}{self._chars(10)}"
