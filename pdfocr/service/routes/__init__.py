"""The service's routes, one router per resource: ``jobs`` (submit, a job's state, cancel),
``results`` (a job's PDF and text), ``search`` (the full-text index, and the page images
that show its hits), ``ocr`` (one image answered at once), ``service`` (what the service
takes, health, metrics) and ``page`` (the page for people)."""

from . import jobs, ocr, page, results, search, service

ROUTERS = (jobs.router, results.router, search.router, ocr.router, service.router, page.router)
"""In this order: the schema lists the paths as the routes were added."""
