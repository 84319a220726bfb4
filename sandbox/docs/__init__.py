"""Emulated Google Docs API v1: documents.create, documents.get, documents.batchUpdate.

`document.py` holds the body as UTF-16-indexed units, `edits.py` the batchUpdate
requests, `views.py` the JSON resource and the viewer's HTML, `models.py` the
Backend, `routes.py` the HTTP layer. Each module's docstring says what it leaves out.
"""
