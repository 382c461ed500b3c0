"""Where scrapers live: a Scrapy item pipeline, WARC/ARC archives, and Dask clusters.

Each integration is its own module and imports its third-party package only when used,
so `import classifier` never pays for (or requires) Scrapy, warcio or Dask:

    classifier.integrations.scrapy   CleanPipeline            pip install '...[scrapy]'
    classifier.integrations.warc     iter_html_records()      pip install '...[warc]'
    classifier.integrations.dask     clean_to_parquet(), clean_dataframe()   '...[dask]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingExtra", "require"]


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says which extra brings it."""


def require(module: str, extra: str) -> ModuleType:
    """Import `module`, or explain which extra of this package installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(
            f"{module.partition('.')[0]} is not installed; install it with: "
            f"pip install 'boilerplate-classifier[{extra}]'"
        ) from exc
