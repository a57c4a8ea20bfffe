"""Pure ASGI middleware: cheap, streaming-safe, applied to every response."""
