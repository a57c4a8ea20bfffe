"""OpenID Connect provider core: id tokens, discovery, later userinfo and logout.
Framework-free: plain values in, typed results or errors out."""
