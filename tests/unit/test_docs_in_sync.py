"""Generated documentation matches the code it is generated from."""

from pathlib import Path

from gatepass.config import render_reference

DOCS = Path(__file__).parents[2] / "docs"


def test_configuration_reference_is_regenerated_after_settings_change() -> None:
    committed = (DOCS / "configuration.md").read_text()
    assert committed == render_reference(), "run scripts/gen-docs"
