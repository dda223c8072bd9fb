"""``pdfocr serve``: pdfocr over HTTP, a face over the library like the CLI.

Needs the ``server`` extra (``pip install 'pdfocr[server]'``): FastAPI, uvicorn,
python-multipart and prometheus-client.
"""

from __future__ import annotations

from .settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":  # FastAPI is imported only when the app is made
        from .app import create_app

        return create_app
    raise AttributeError(name)
