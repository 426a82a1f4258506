"""Quorum's settings, read from `QUORUM_*` environment variables."""

import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set; each field says what it is for."""

    model_config = SettingsConfigDict(env_prefix="QUORUM_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the embedded database, secrets and files live.")
    database_url: str = Field(
        "",
        description="SQLAlchemy async URL: postgresql+asyncpg://... in production; "
        "empty means the embedded SQLite file in the data dir.",
    )
    redis_url: str = Field("", description="Redis for arq jobs; empty runs jobs in-process.")
    secret_key: str = Field(
        "", description="Signs sessions; empty means one is generated once and kept in the data dir."
    )
    admin_email: str = Field("admin@localhost", description="Email of the admin created on first start.")
    admin_password: str = Field("", description="Password of that admin; empty means generated and printed.")
    admin_token: str = Field("", description="API token of that admin; empty means generated.")
    host: str = Field("127.0.0.1", description="Address `quorum start` listens on.")
    port: int = Field(8080, description="Port `quorum start` listens on.")
    access_log: bool = Field(
        False,
        description="Log a line per request. Off by default: a reverse proxy in front usually logs "
        "requests, and at hundreds of requests a second the log costs the server a tenth of its CPU.",
    )
    max_request_bytes: int = Field(
        200 * 1024 * 1024, description="Largest request body accepted; larger ones get 413."
    )
    max_json_bytes: int = Field(
        50 * 1024 * 1024, description="Largest JSON body parsed in a request (uploads may be larger)."
    )
    import_sync_bytes: int = Field(
        5 * 1024 * 1024,
        description="Imports larger than this run as a background job answered with {'import': id}.",
    )
    reap_seconds: float = Field(
        5.0,
        description="Without Redis: how often the server sends imports and export builds whose runner "
        "died to a new one (0 turns it off; an arq worker reaps on its own schedule).",
    )
    secure_cookies: bool = Field(False, description="Mark session cookies Secure (set behind HTTPS).")
    outbound_allow_private: bool = Field(
        False,
        description="Let outbound requests (such as URL imports) reach loopback, "
        "private, link-local and other non-public addresses. For development only.",
    )
    outbound_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Non-public networks (CIDR), addresses or host names outbound requests may reach "
        "anyway, comma-separated, e.g. an internal ML backend.",
    )
    outbound_timeout: float = Field(
        10.0, description="Seconds an outbound request waits to connect, or between two reads."
    )
    outbound_total_timeout: float = Field(
        300.0, description="Seconds a whole outbound download (such as a URL import) may take."
    )
    outbound_max_bytes: int = Field(
        100 * 1024 * 1024, description="Largest response body an outbound request downloads; larger get 413."
    )

    @field_validator("outbound_allowlist", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """The environment gives one comma-separated string; code may pass a list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        """The URL to connect to: the configured one or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'quorum.sqlite3').resolve()}"

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated on first use and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
