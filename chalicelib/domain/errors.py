"""Domain errors: what went wrong, in the agency's terms, with no HTTP in sight.

``chalicelib/api/edge.py`` is the only place that turns these into status codes.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class; ``code`` is a stable machine-readable word for API clients."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidInput(DomainError):
    """A request field is missing or malformed; ``field`` names it."""

    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request is well formed but the file's state refuses it (no consent, opted out, ...)."""

    code = "conflict"


class Unprocessable(DomainError):
    """The request is well formed but contradicts an earlier one (an ``Idempotency-Key`` reused for
    a different message): nothing is done, and the earlier answer is not repeated."""

    code = "unprocessable"


class SignatureInvalid(DomainError):
    """A webhook whose ``X-Twilio-Signature`` does not match: nothing is stored."""

    code = "invalid_signature"
