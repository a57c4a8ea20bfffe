"""The only package that touches cryptographic libraries: small, pinned recipes."""
