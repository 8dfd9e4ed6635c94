"""Errors and exit codes every layer may raise or return, in a leaf module (it imports
nothing from ivr), so drivers and services never import the command line to report a
problem the user can fix.

Exit codes of `ivr` (README, "Exit codes"): 0 done; 1 checks failed (lint, test); 2 a usage
or input error (one line on stderr); 3 a call ran to its end but its log could not be
written (disk full, ...): the transcript is complete, the log is not; 130 interrupted.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_CHECKS_FAILED = 1
EXIT_USAGE = 2
EXIT_LOG_FAILED = 3
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """An error the user can fix; printed as one line, exit code 2 unless told otherwise."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.code = code
