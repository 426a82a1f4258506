"""Domain errors, each carrying a message meant for a person.

QuorumError
 ├── Invalid        the input breaks a rule (400)
 │    └── TooLarge  the input is over a size limit (413)
 ├── Unauthorized   no valid credentials (401)
 ├── Forbidden      the caller may not do this (403)
 ├── NotFound       no such object for this caller (404)
 └── Conflict       the state of the data forbids it now (409)

The API maps each to one status code in one place; a service raises them and never
builds HTTP responses itself.
"""

from typing import Any


class QuorumError(Exception):
    """Base of every error Quorum reports to a caller."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        keep_changes: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}
        self.keep_changes = keep_changes  # commit what was written before refusing (nothing lost)


class Invalid(QuorumError):
    """The input breaks a rule; `field` names what to fix."""

    status_code = 400


class TooLarge(Invalid):
    """The input is over a size limit."""

    status_code = 413


class Unauthorized(QuorumError):
    """Missing or wrong credentials."""

    status_code = 401


class Forbidden(QuorumError):
    """The caller is known but may not do this."""

    status_code = 403


class NotFound(QuorumError):
    """No such object, or one the caller may not see (never leak existence)."""

    status_code = 404


class Conflict(QuorumError):
    """The current state of the data forbids the change."""

    status_code = 409
