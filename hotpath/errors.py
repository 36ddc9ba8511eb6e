"""Errors hotpath raises.

Every error a user can cause or fix derives from :class:`HotpathError`; the CLI turns them
into one line on stderr and an exit code, never a traceback::

    HotpathError                 exit 2 unless said otherwise
    ├── UsageError               bad option or combination of options
    ├── ProfileParseError        a profile file is not what it claims (path, line, reason)
    │   └── LimitExceeded        input exceeds a safety limit (names the limit and option)
    ├── MergeError               profiles that cannot be merged (e.g. different units)
    ├── ConfigError              bad [tool.hotpath] configuration
    ├── OutputError              an output cannot be written (missing directory, full disk)
    └── CollectionError          exit 3: no such process, ptrace refused, py-spy failed
"""

from __future__ import annotations

from pathlib import PurePath


class HotpathError(Exception):
    """Base of every error hotpath reports to a user."""

    exit_code = 2


class UsageError(HotpathError):
    """A command was called with options that do not make sense together."""


class ProfileParseError(HotpathError):
    """A profile file could not be read: says which file, where, and what was wrong."""

    def __init__(self, path: str | PurePath | None, reason: str, line: int | None = None) -> None:
        self.path = str(path) if path is not None else "<input>"
        self.line = line
        self.reason = reason
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {reason}")


class LimitExceeded(ProfileParseError):
    """Input crossed a safety limit; the message names the limit and how to raise it."""


class MergeError(HotpathError):
    """Profiles that cannot be combined into one."""


class ConfigError(HotpathError):
    """Invalid configuration in pyproject.toml or on the command line."""


class OutputError(HotpathError):
    """An output could not be written: names the path and the system's reason."""


class CollectionError(HotpathError):
    """Collecting a profile failed: no such process, ptrace refused, py-spy missing."""

    exit_code = 3
