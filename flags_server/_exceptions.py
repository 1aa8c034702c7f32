"""The one exception the flag server raises for bad input.

Kept in its own module (as httpx does) so the CLI, the admin API and the
harness can all catch the same class and turn it into one clear line.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is out of range or malformed.

    The message always names the field, the bad value and what is allowed,
    because it is shown to the user as is (CLI: one line and exit status 2;
    admin API: HTTP 400 with the message as body).
    """
