"""The audit log of authentication events (ASVS 16.3.1): who, what, when, from where."""
