"""The ASGI application: HTTP in, core calls, pages and JSON out."""
