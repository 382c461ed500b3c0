"""Boilerplate and paywall-appeal classifier: keep a page's article body, label the rest.

    from classifier import clean
    page = clean(html)          # str | bytes | bs4.BeautifulSoup
    page.text                   # the article body
    [(b.label, b.text) for b in page.blocks]
"""

from .clean import Cleaner, Page, clean
from .errors import (
    ClassifierError,
    InputError,
    InputTooLargeError,
    InternalError,
    ModelError,
    NotHTMLError,
    PageTimeoutError,
    UnsupportedInputError,
)
from .model import LABELS, Model, default_model
from .segment import Block

__all__ = [
    "LABELS", "Block", "ClassifierError", "Cleaner", "InputError", "InputTooLargeError",
    "InternalError", "Model", "ModelError", "NotHTMLError", "Page", "PageTimeoutError",
    "UnsupportedInputError", "clean", "default_model",
]  # fmt: skip
__version__ = "0.1.0"
