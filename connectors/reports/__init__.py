"""Report writers: a self-contained HTML file with plots and a JSON summary."""

from connectors.reports.html import ReportInput, Table, render, write_html
from connectors.reports.jsonfile import write_json
from connectors.reports.svg import Marker, Series, bar_chart, line_chart

__all__ = [
    "Marker",
    "ReportInput",
    "Series",
    "Table",
    "bar_chart",
    "line_chart",
    "render",
    "write_html",
    "write_json",
]
