"""Configuration: YAML validated into frozen, typed models, with errors that point at lines.

Use :func:`load_config` (raises :class:`ConfigError` carrying every :class:`ConfigProblem`) or
:func:`check_files` (returns the problems).
"""

from agent.config.errors import ConfigError, ConfigProblem
from agent.config.loader import check_files, load_config, parse_config
from agent.config.model import Config

__all__ = ["Config", "ConfigError", "ConfigProblem", "check_files", "load_config", "parse_config"]
