"""Bad-input cases, one file per module: each defines `CASES`, a list of `Bad(id, call, exc, names)`.

`call` is a zero-argument callable that must raise `exc` (ValueError or TypeError, or a subclass) with a
message that contains every string in `names` (the argument's name, and the value where it can be shown).
tests/test_bad_inputs.py collects them all."""
from dataclasses import dataclass, field
from typing import Callable

@dataclass
class Bad:
    id: str
    call: Callable
    exc: type
    names: tuple = field(default_factory=tuple)

    def __post_init__(self):
        if isinstance(self.names, str): self.names = (self.names,)
        if not self.names: raise ValueError(f"case {self.id}: give at least the argument's name in `names`")
