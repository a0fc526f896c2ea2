"""Settings from the environment (or a ``.env`` file), never from the repository."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARESCHEDULER_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./carescheduler.db",
        validation_alias=AliasChoices("DATABASE_URL", "CARESCHEDULER_DATABASE_URL"),
        description="SQLAlchemy URL: sqlite:///file.db (default) or postgresql+psycopg://...",
    )
    jwt_secret: SecretStr = Field(min_length=32, description="signs and checks bearer tokens (at least 32 chars)")
    jwt_issuer: str = "carescheduler"
    token_hours: float = Field(default=12.0, gt=0, description="lifetime of minted tokens")
    max_body_bytes: int = Field(default=20_000_000, gt=0, description="largest request body accepted")
    solve_seconds: float = Field(default=30.0, gt=0, le=3600, description="default time limit of a solve job")
    replan_seconds: float = Field(default=1.0, gt=0, le=60, description="time limit of a replan job")
    worker: bool = Field(default=True, description="run jobs in a worker process (off: jobs only queue)")
    timezone: str = Field(default="Europe/London", description="the care days' time zone (for now)")


@lru_cache
def get_settings() -> Settings:
    return Settings()
