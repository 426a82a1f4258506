"""Apply Alembic migrations from code (the `quorum migrate` and `quorum start` path)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if url:
        config.attributes["url"] = url
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema; call outside a running event loop."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")


def upgrade_on(connection: Connection) -> None:
    """Upgrade through an open connection (for `AsyncConnection.run_sync`)."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
