"""What every command shares: the consoles, exit codes, the one way from input to a checked scenario,
progress, and the options that mean the same everywhere.

Imports here are light (typer and rich only): `radsim --help` must not pay for numpy or pydantic.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.text import Text

    from simulator.scenario import Scenario

__all__ = ["out", "err", "styled", "plain", "OK", "INTERNAL", "BAD_INPUT", "FAILED", "RESOURCES", "fail", "bad_input", "prepared",
           "Progress",
           "ScenarioArg", "Replications", "Seed", "Policy", "Sets", "Workers", "AllowLarge", "AllowCode", "Replace", "grant_named"]

# No markup, emoji codes or highlighting in what is printed: user text (names, paths, values) is shown as
# written. Our own styling is explicit, through `styled`.
out = Console(markup=False, emoji=False, highlight=False)
err = Console(stderr=True, markup=False, emoji=False, highlight=False)
OK, INTERNAL, BAD_INPUT, FAILED, RESOURCES = 0, 1, 2, 3, 4


def _grant(entries: list[str]) -> None:
    from simulator.triage import PolicyError
    from simulator.triage.resolver import grant

    try:
        grant(entries)
    except PolicyError as exc:
        raise typer.BadParameter(str(exc)) from None


def _allow_code(values: Optional[list[str]]) -> Optional[list[str]]:
    if values:
        _grant(values)
    return values


def grant_named(value: Any) -> Any:
    """A policy the user names on the command line (`--policy mypkg.rules:NewRules`) is code they chose to
    run: it is allowed for this command, as `--allow-code` would allow it. A name in a file or a `--set` is
    not."""
    from simulator.triage.resolver import is_import_path

    named = [value] if isinstance(value, str) else list(value or [])
    _grant([v for v in named if isinstance(v, str) and is_import_path(v)])
    return value

ScenarioArg = Annotated[str, typer.Argument(metavar="SCENARIO", help="A scenario YAML file, or the name of a bundled scenario "
                                                  "(`radsim scenarios` lists them).")]
Replications = Annotated[int, typer.Option("--replications", "-r", metavar="R", min=1, max=10_000,
                                           help="Independent replications (each a fresh draw of the studies); "
                                                "confidence intervals need at least 2.")]
Seed = Annotated[Optional[int], typer.Option(metavar="S", min=0, help="Root seed of the random streams (default: the scenario's).")]
Policy = Annotated[Optional[str], typer.Option(metavar="POLICY", callback=grant_named,
                                               help="Triage policy instead of the scenario's: fifo, ai_priority, "
                                                    "hierarchical, score, aging, sla_edf, rules, or your own "
                                                    "package.module:Class (allowed for this command by naming it here).")]
Sets = Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE", help="Change one value of the scenario: "
                                                   "key.path=value, e.g. pools.ct_mr.shifts.2.staff=1 (repeatable; "
                                                   "checked like the file).")]
Workers = Annotated[Optional[int], typer.Option("--workers", "-w", metavar="N", min=1, max=512,
                                                help="Processes running replications in parallel (default: all "
                                                     "cores of this machine; fewer where the memory available would "
                                                     "not hold that many, and a note says so).")]
AllowCode = Annotated[Optional[list[str]], typer.Option(
    "--allow-code", metavar="MODULE", callback=_allow_code,
    help="Let the scenario name classes of this module of yours (mypkg, or one class: mypkg.rules:NewRules) as "
         "its policy or router (repeatable; adds to RADSIM_ALLOWED_CODE). Nothing else a scenario names is imported.")]
# The options of the commands that search rosters (`staff`, `design`): the same words in both.
Targets = Annotated[list[str], typer.Option("--target", metavar="TARGET", help="A target: metric[split=value] <= number "
                                            "(or >=), e.g. \"p95_tat_minutes[ai_positive=true] <= 60\"; repeatable.")]
RosterReplications = Annotated[int, typer.Option("--replications", "-r", metavar="R", min=2, max=1000,
                                                 help="Replications the answer is confirmed with (targets are met "
                                                      "with 95% confidence over them); candidates are screened with 2.")]
Waive = Annotated[Optional[list[str]], typer.Option("--waive", metavar="NAME", help="Drop one feasibility condition: a kind "
                                                    "of work (second_opinion, consultation, ...) whose own target need "
                                                    "not be kept, 'reported' (99% of work reported) or 'overload' (no "
                                                    "pool's backlog grows). Repeatable.")]
Replace = Annotated[bool, typer.Option("--replace", help="Replace the --out folder although it has no .radsim.json "
                                       "marker, so radsim cannot tell that it wrote it (a folder of radsim's file "
                                       "names only; anything else is still refused).")]
AllowLarge = Annotated[bool, typer.Option("--allow-large", help="Run even when the scenario asks for more work "
                                          "items or reader duties than the limits (docs/contract.md): it may "
                                          "need a lot of memory and time.")]


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    err.print(styled(f"[bold red]error:[/] {plain(message)}"), soft_wrap=True)
    raise typer.Exit(code)


def plain(text: object) -> str:
    """User text made safe to put inside `styled` markup: shown as written."""
    from rich.markup import escape

    return escape(str(text))


def styled(markup: str) -> "Text":
    """Our own markup ([bold], [dim], [red], ...) as styled text; user text inside it goes through `plain`.
    Emoji codes are never replaced (`:x:` stays `:x:`)."""
    from rich.text import Text

    return Text.from_markup(markup, emoji=False)


@contextmanager
def bad_input() -> Iterator[None]:
    """Bad input of any kind (a scenario, a policy, a file, a target) becomes one clear message and exit 2."""
    from simulator.errors import InputError

    try:
        yield
    except InputError as exc:  # a scenario, a policy, a metric, a file: all one kind for the user
        fail(str(exc), BAD_INPUT)


def prepared(source: str, sets: list[str] | None = None, policy: str | None = None, *,
             fragments: tuple[str, ...] = (), allow_large: bool = False, expectations: bool = True) -> "Scenario":
    """The scenario a command runs, through the one way in (`prepare`); exit 2 on bad input."""
    from simulator.prepare import prepare

    with bad_input():
        return prepare(source, sets or [], fragments=fragments, policy=policy, allow_large=allow_large,
                       expectations=expectations)


class Progress:
    """The one progress display: a bar on a terminal; on anything else (a log, CI) a line every `every`
    seconds, so a long command is never silent. Shown only once the work has taken `after` seconds.
    `total=None` is work of no known size (a search): no percentage, only what the note counts."""

    def __init__(self, label: str, total: float | None = 1.0, after: float = 1.0, every: float = 5.0) -> None:
        self.label, self.total, self.after, self.every = label, total, after, every
        self.started = self.last_line = time.monotonic()
        self.terminal = err.is_terminal
        self.bar: Any = None
        self.task: Any = None
        self.done, self.note = 0.0, ""
        self.sized = total is not None

    def __call__(self, done: float, total: float | None = None, note: str = "") -> None:
        self.done, self.note = done, note
        if total is not None:
            self.total = total
        now = time.monotonic()
        if now - self.started < self.after:
            return
        if not self.terminal:
            if now - self.last_line >= self.every:
                self.last_line = now
                err.print(self._line(now), highlight=False, soft_wrap=True)
            return
        if self.bar is None:
            from rich.progress import BarColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            from rich.table import Column

            def whole() -> Column:
                return Column(no_wrap=True)

            sized = (TextColumn("{task.percentage:>3.0f}%", table_column=whole()),
                     TimeElapsedColumn(table_column=whole()), TimeRemainingColumn(table_column=whole())) \
                if self.sized else (TimeElapsedColumn(table_column=whole()),)  # an unsized bar pulses
            # Figures whole; the label and the note folded onto more lines: a narrow terminal shows all of them.
            self.bar = Bar(TextColumn("{task.description}", table_column=Column(overflow="fold", ratio=1)),
                           BarColumn(bar_width=20), *sized,
                           TextColumn("{task.fields[note]}", table_column=Column(overflow="fold", ratio=1)),
                           console=err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total if self.sized else None, note=note)
        self.bar.update(self.task, completed=done, note=note, **({"total": self.total} if self.sized else {}))

    def say(self, note: str) -> None:
        """News of work of no known size (`total=None`): the note is the progress."""
        self(self.done, None, note)

    def _line(self, now: float) -> str:
        elapsed = now - self.started
        if not self.sized:
            return f"{self.label}: {self.note}" if self.note else f"{self.label} ({elapsed:.0f} s)"
        share = self.done / self.total if self.total else 0.0
        left = f", about {elapsed * (1 - share) / share:.0f} s left" if 0 < share < 1 else ""
        return f"{self.label}: {share:.0%} ({elapsed:.0f} s{left}){' ' + self.note if self.note else ''}"

    def fraction(self, share: float) -> None:
        self(share, 1.0)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def existing(path: Path, what: str = "file") -> Path:
    if not path.exists():
        fail(f"{path}: no such {what}")
    return path


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
