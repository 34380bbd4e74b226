"""The one place that invents names.

Every new name in generated code comes from a `Namer`, so names are deterministic
(no randomness, no hashing) and never collide with the user's:

- temporaries of normalisation: `t1`, `t2`, ... (the lecture's xi1..xin);
- a reassigned user name keeps its name for the first value and gets `x_2`, `x_3`, ...
  for the later ones;
- the adjoint of `x` is `d_x`, its tangent (forward mode) `t_x`;
- the value of a returned expression is `value`.

A candidate already in use gets a numeric suffix until it is free. Names the
generated module defines itself (`np`, helpers, `grad_<f>`) are *reserved*: a user
variable with such a name gets a fresh one, so it cannot hide them.
"""

from __future__ import annotations

from typing import Iterable


class Namer:
    def __init__(self, taken: Iterable[str] = (), reserved: Iterable[str] = ()):
        self._reserved = frozenset(reserved)
        self._taken = set(taken) | self._reserved
        self._temps = 0
        self._versions: dict[str, int] = {}
        self._adjoints: dict[str, str] = {}
        self._tangents: dict[str, str] = {}
        self.invented: set[str] = set()  # temporaries and their adjoints (free to fold away)

    @property
    def taken(self) -> frozenset[str]:
        return frozenset(self._taken)

    def is_reserved(self, name: str) -> bool:
        return name in self._reserved

    def fresh(self, base: str) -> str:
        """`base` if it is free, else `base_2`, `base_3`, ..."""
        name, k = base, 1
        while name in self._taken:
            k += 1
            name = f"{base}_{k}"
        self._taken.add(name)
        return name

    def temp(self) -> str:
        while True:
            self._temps += 1
            name = f"t{self._temps}"
            if name not in self._taken:
                self._taken.add(name)
                self.invented.add(name)
                return name

    def version(self, name: str) -> str:
        """A name for the next value of user variable `name` (a parameter's value is
        its first; the user's own names count as theirs, so the first is `name`)."""
        count = self._versions.get(name, 0) + 1
        self._versions[name] = count
        if count == 1 and name not in self._reserved:
            self._taken.add(name)
            return name
        return self.fresh(f"{name}_{count}")

    def adjoint(self, name: str) -> str:
        """The adjoint variable of `name` (the same one every time it is asked for)."""
        if name not in self._adjoints:
            self._adjoints[name] = self.fresh(f"d_{name}")
            if name in self.invented:
                self.invented.add(self._adjoints[name])
        return self._adjoints[name]

    def tangent(self, name: str) -> str:
        """The tangent variable of `name` in forward mode (the same one every time)."""
        if name not in self._tangents:
            self._tangents[name] = self.fresh(f"t_{name}")
            if name in self.invented:
                self.invented.add(self._tangents[name])
        return self._tangents[name]
