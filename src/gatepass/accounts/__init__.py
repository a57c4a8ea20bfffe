"""User accounts: the one user store behind sessions, tokens and OAuth."""
