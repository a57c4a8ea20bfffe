"""Upstream identity providers ("Login with ..."): gatepass as an OpenID relying party.

model.py the values; presets.py what each kind of provider looks like; metadata.py its
discovery document and keys; relying_party.py the login itself (code + PKCE, id token);
registry.py the configured providers; identities.py which upstream account is whose.
"""
