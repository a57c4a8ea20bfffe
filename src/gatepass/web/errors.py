"""HTTP-level errors of the web layer, rendered as a clear page (or JSON when asked)."""


class BadRequest(Exception):
    """The request is malformed; `message` is safe to show."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class Forbidden(BadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(message, status_code=403)
