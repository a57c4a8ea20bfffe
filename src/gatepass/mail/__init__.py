"""Outgoing mail: SMTP, or a folder of messages in development."""
