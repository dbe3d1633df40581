"""Reads for the staff pages."""

import segno

from ordering.models import Table
from ordering.selectors import table_list


def table_page_path(table: Table) -> str:
    return f"/t/{table.pk}/"


def table_qr_svg(url: str) -> str:
    """An inline SVG QR code (scales with CSS through its viewBox; prints sharp)."""
    qr = segno.make(url, error="m")
    return qr.svg_inline(scale=1, border=2, dark="#111", omitsize=True, svgclass="qr", lineclass=None)


def table_qr_list(*, base_url: str) -> list[tuple[Table, str, str]]:
    """(table with total_spent, absolute tab URL, QR SVG) for every table, by name."""
    rows = []
    for table in table_list():
        url = base_url.rstrip("/") + table_page_path(table)
        rows.append((table, url, table_qr_svg(url)))
    return rows
