"""Errors shared by every layer.

    GatepassError
    ├── ConfigError          a setting is missing, malformed or unreachable (start-up)
    ├── StoreUnavailable     a backend (Redis, SQL) cannot answer now: fail closed, 503
    ├── ValidationError      user input breaks a rule; carries a message safe to show
    └── InvalidToken         a JWT failed parsing, its signature or a claim check (opaque)

Protocol errors with RFC codes join this tree as the OAuth cores arrive.
"""


class GatepassError(Exception):
    """Base of every error gatepass raises on purpose."""


class ConfigError(GatepassError):
    """A setting is wrong; the message names it and fits on one line."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting


class StoreUnavailable(GatepassError):
    """A storage backend is down or timing out; callers fail closed."""

    retry_after_seconds = 5


class ValidationError(GatepassError):
    """Input that breaks a rule; `message` is safe to render to the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidToken(GatepassError):
    """A token is not acceptable. One opaque error for every reason (bad signature,
    unknown key, wrong algorithm, expired, wrong audience...), so a caller cannot
    learn which check failed; the reason is in `debug`, for logs only."""

    def __init__(self, debug: str = "") -> None:
        super().__init__("invalid token")
        self.debug = debug
