"""Server-side browser sessions: the coat check."""
