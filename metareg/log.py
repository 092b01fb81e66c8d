"""structlog set-up: readable in a terminal, JSON lines in production (--log-json).

Every log event passes through `redact_secrets`, so a value registered as secret
(API keys, registry tokens, database passwords) never reaches a log sink even if a
caller logs it by mistake.

structlog is imported on the first `get_logger` (issue 17, start-up): `configure` only
records the settings until then, so a command that logs nothing never loads it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

_SECRETS: set[str] = set()
# The settings of the last `configure`, applied to structlog when it is first needed.
_pending: tuple[bool, str] | None = None
_configured: tuple[bool, str] | None = None  # the last `configure`'s settings
_level = logging.INFO


def register_secret(value: str | None) -> None:
    """Remember a secret so that every later log line masks it."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _SECRETS:
            if secret in value:
                value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask(v) for v in value)
    return value


def mask_secrets(text: str) -> str:
    """`text` with every registered secret masked: for error messages that leave the
    process other than through a log line (stored sync errors, API bodies)."""
    masked: str = _mask(text)
    return masked


def redact_secrets(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    if not _SECRETS:
        return event_dict
    return {k: _mask(v) for k, v in event_dict.items()}


class StderrLogger:
    """Writes each event to whatever `sys.stderr` is at that moment.

    structlog's PrintLogger keeps the stream it was created with; a CLI run inside
    tests (or anything that swaps stderr) would leave later events writing to a
    closed file.
    """

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger(*_args: Any) -> StderrLogger:
    return StderrLogger()


def configure(json_logs: bool = False, level: str = "INFO") -> None:
    """Log JSON lines (`json_logs`) or readable lines, from `level` on. Applied now when
    structlog is loaded, else on the first `get_logger`."""
    global _pending, _level, _configured
    _level = logging.getLevelName(level)
    _configured = (json_logs, level)
    if "structlog" in sys.modules:
        _pending = None
        _apply(json_logs, level)
    else:
        _pending = (json_logs, level)


def _apply(json_logs: bool, level: str) -> None:
    import structlog

    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    if json_logs:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        processors += [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


# What a child process needs to log as this one does (`snapshot`, `adopt`).
Snapshot = tuple[tuple[bool, str] | None, list[str], dict[str, Any]]


def snapshot() -> Snapshot:
    """This process's logging as a child process should take it on (`adopt`): the
    settings of `configure`, the secrets to mask, the fields bound to the context."""
    bound: dict[str, Any] = {}
    if "structlog" in sys.modules:
        import structlog

        bound = structlog.contextvars.get_contextvars()
    return _configured, sorted(_SECRETS), bound


def adopt(state: Snapshot) -> None:
    """In a child process: log as the process that took `state` (`snapshot`) does."""
    settings, secrets, bound = state
    for secret in secrets:
        register_secret(secret)
    if settings is not None:
        configure(*settings)
    # A kept child runs job after job: the fields of the job before it go, always.
    if bound or "structlog" in sys.modules:
        import structlog

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**bound)


def enabled(level: str) -> bool:
    """Whether an event of `level` would be logged (without loading structlog)."""
    return bool(logging.getLevelName(level.upper()) >= _level)


def get_logger(name: str | None = None) -> Any:
    global _pending
    import structlog

    if _pending is not None:
        settings, _pending = _pending, None
        _apply(*settings)
    return structlog.get_logger(name)
