"""For tests that stop a radsim command with Ctrl-C (SIGINT)."""
from __future__ import annotations

import signal


def takes_ctrl_c() -> None:
    """`preexec_fn` of such a command: SIGINT as at a terminal. A shell without job control starts a
    background job (`make test &`) with SIGINT ignored, every child inherits that, and the command would
    never see the test's Ctrl-C; Python installs its KeyboardInterrupt handler only where SIGINT is not
    ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
