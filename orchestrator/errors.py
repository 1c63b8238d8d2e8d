"""The package's exception tree and the command line's exit codes.

Every error a user can cause derives from `BwmigrateError` and carries the exit code the CLI
returns for it; its message is one line saying what failed, where, and what to do. Anything
else escaping to the CLI is a bug and keeps its traceback.

    BwmigrateError
    ├── InputError              bad usage, plan, number file or v1 input      (exit 2)
    │   ├── PlanError           the plan cannot be used
    │   ├── StateMismatchError  the state file belongs to another plan/version
    │   └── StateFileError      the state file is damaged or cannot be read or written
    ├── XmlError                a document is malformed or hostile            (exit 2)
    ├── ApiError                the API answered something we cannot use      (exit 3)
    │   ├── TransientApiError   5xx, timeouts, connection errors (retryable)
    │   │   ├── RateLimitedError  429, with the time the window resets
    │   │   └── RequestNotSentError  the request never left (retryable even for a POST)
    │   ├── PermanentApiError   4xx with the API's error code and description
    │   │   └── AuthError       401 / 403
    │   └── ResponseLostError   a POST whose outcome is unknown (reconcile, never retry)
    ├── AbortedError            failure threshold, API unreachable             (exit 3)
    └── StateLockedError        another run holds the state file               (exit 4)

An interrupted run (Ctrl-C / SIGTERM) is not an error: it ends with exit 130 and its state saved.

This module must not import anything outside the standard library.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of `bwmigrate`: a contract scripts rely on (docs/ARCHITECTURE.md §6)."""

    OK = 0
    FAILED_NUMBERS = 1
    BAD_INPUT = 2
    ABORTED = 3
    LOCKED = 4
    INTERRUPTED = 130


class BwmigrateError(Exception):
    """Root of every error bwmigrate raises on purpose."""

    exit_code: ExitCode = ExitCode.BAD_INPUT


class InputError(BwmigrateError):
    """Bad usage, plan, number file or v1 input: fix the input and run again."""


class PlanError(InputError):
    """The plan cannot be used (syntax, schema, missing file, contradiction)."""


class StateMismatchError(InputError):
    """The state file was made by another plan or another schema version."""


class EmptyStateError(StateMismatchError):
    """A read-only command opened a state that holds nothing yet (a run is creating it, or
    one was cut short before it stored its plan)."""


class StateFileError(InputError):
    """SQLite failed on the state file (a damaged page, a full disk, an unreadable file): one
    line naming the file and what to do, never a traceback."""


class XmlError(BwmigrateError):
    """An XML document is malformed, hostile (DTD, entities) or of an unexpected shape."""


class ApiError(BwmigrateError):
    """The API answered something the run cannot use."""

    exit_code = ExitCode.ABORTED


class TransientApiError(ApiError):
    """A fault worth retrying: 5xx, timeout, connection error."""


class RateLimitedError(TransientApiError):
    """HTTP 429; `retry_at` is the epoch second the window resets (None if not given)."""

    def __init__(self, message: str, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class RequestNotSentError(TransientApiError):
    """A fault before the request left this machine (connect error, connect or pool timeout).

    Safe to retry even for a POST: the server cannot have seen it.
    """


class PermanentApiError(ApiError):
    """A 4xx answer with the API's own error code and description; not retried."""

    def __init__(
        self, message: str, status: int, code: str | None = None, description: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.description = description


class AuthError(PermanentApiError):
    """Credentials missing, wrong, or without the needed role (401/403)."""


class ResponseLostError(ApiError):
    """A POST was sent but its response was lost: the order may exist. Reconcile, never retry."""


class AbortedError(BwmigrateError):
    """The run stopped itself: failure threshold exceeded, API unreachable."""

    exit_code = ExitCode.ABORTED


class StateLockedError(BwmigrateError):
    """Another run holds the lease on this state file."""

    exit_code = ExitCode.LOCKED


def one_line(text: str, limit: int = 300) -> str:
    """Outside text (an API's error description, a parser's message) as it may appear inside a
    one-line error: whitespace runs collapsed to one space, at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
