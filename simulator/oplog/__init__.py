"""Operation logs: a worklist event log read and cleaned by documented rules, and realistic logs made from a
run for tests (the inputs of calibration, docs/calibration.md)."""
from __future__ import annotations

from .cleaning import DROPPING, SKEW_MINUTES, CleanLog, clean_log, read_log
from .columns import KINDS, LOG_COLUMNS, REQUIRED, TIMES
from .synthetic import Degradation, degrade, log_of_run

__all__ = ["CleanLog", "read_log", "clean_log", "DROPPING", "SKEW_MINUTES", "LOG_COLUMNS", "REQUIRED", "TIMES",
           "KINDS", "Degradation", "degrade", "log_of_run"]
