"""One error type for the whole core; the web app and the CLI render it.

Every error carries a one-line, human-readable message and an HTTP status.
The Flask app turns it into the JSON envelope ``{"ok": false, "error": {...}}``;
the CLI prints ``error: <message>`` and exits non-zero.
"""
from __future__ import annotations


class KGError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None, **details):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
            if code is None and type(self) is KGError:
                code = _CODES.get(status)
        if code is not None:
            self.code = code
        self.details = {k: v for k, v in details.items() if v is not None}

    def to_dict(self) -> dict:
        return {"ok": False, "error": {"status": self.status, "code": self.code,
                                       "message": self.message, **self.details}}


_CODES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
          405: "method-not-allowed", 406: "not-acceptable", 409: "conflict", 413: "too-large",
          415: "unsupported-media-type", 422: "shacl-violation", 503: "unavailable"}


class DataError(KGError):
    """A curated or uploaded data file is malformed (names the file and line)."""
    status = 400
    code = "bad-data"


class QueryError(KGError):
    """A SPARQL query could not be parsed (names line and column)."""
    status = 400
    code = "bad-query"


class NotFoundError(KGError):
    status = 404
    code = "not-found"


class StoreError(KGError):
    """The store is missing or unusable."""
    status = 503
    code = "store-unavailable"


class ValidationFailed(KGError):
    """A load was rejected by the SHACL shapes; ``report`` holds the results."""
    status = 422
    code = "shacl-violation"

    def __init__(self, message: str, report=None, **details):
        super().__init__(message, **details)
        self.report = report
