"""The one base class of every error a caller can fix by changing their input (a scenario, a policy name, a
metric, a file), so that a Python caller catches them all with `except InputError` and the CLI turns them
all into one message and exit 2. It lives here, in the lowest layer, because the triage logic raises it too
(`PolicyError`); `simulator.errors` is where callers import it from."""
from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad input: the message says what, and where."""
