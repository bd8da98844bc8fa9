"""hems: a transactive home energy agent."""

__version__ = "0.1.0"
