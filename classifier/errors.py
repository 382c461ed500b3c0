"""The one exception hierarchy callers need to catch.

`Cleaner.clean` either returns a `Page` (perhaps empty, with `empty_reason` saying why)
or raises a `ClassifierError`; nothing from lxml, codecs or the interpreter's recursion
limit escapes. A crawler can therefore write ``except ClassifierError`` and carry on.

    ClassifierError
    ├── InputError            the input cannot be read as a web page (also a ValueError)
    │   ├── UnsupportedInputError  not str, bytes or a BeautifulSoup (also a TypeError)
    │   ├── NotHTMLError      binary data: an image, a PDF, an archive, random bytes
    │   └── InputTooLargeError     more bytes than `max_bytes`
    ├── PageTimeoutError      a page took longer than the batch time budget
    ├── ModelError            model file missing, truncated or from another version
    └── InternalError         a bug of ours; the original exception is its __cause__
"""

from __future__ import annotations


class ClassifierError(Exception):
    """Root of every error this package raises on purpose."""


class InputError(ClassifierError, ValueError):
    """The input cannot be read as a web page."""


class UnsupportedInputError(InputError, TypeError):
    """The input is not str, bytes or a bs4 BeautifulSoup."""


class NotHTMLError(InputError):
    """The bytes are binary (image, PDF, archive, random data), not markup or text."""


class InputTooLargeError(InputError):
    """The input is larger than the configured `max_bytes`."""


class PageTimeoutError(ClassifierError):
    """Cleaning one page took longer than the per-page time budget."""


class ModelError(ClassifierError, RuntimeError):
    """A model file is missing, damaged or was written by an incompatible version."""


class InternalError(ClassifierError):
    """An unexpected failure inside the pipeline (a bug: please report the page)."""
