"""Every setting says what it is for, in the code and in the README."""

from pathlib import Path

import pytest

from app.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_is_documented(name):
    assert Settings.model_fields[name].description
    assert f"QUORUM_{name.upper()}" in README
