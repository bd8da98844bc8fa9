"""The closed loop's HTML report (inline SVG plots)."""

from hil.report.html import write_report

__all__ = ["write_report"]
