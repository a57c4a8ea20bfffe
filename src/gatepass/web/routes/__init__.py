"""Route modules; each exports `routes`, mounted by web/app.py."""
