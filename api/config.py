"""Settings from the environment (or a ``.env`` file), never from the repository."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from zxcvbn import zxcvbn

SECRET_GUESSES_LOG10 = 30
"""How hard the token secret must be to guess: about 10^30 guesses (100 bits), as
zxcvbn estimates them. Anyone who guesses it can mint any token."""


class Settings(BaseSettings):
    # hide_input_in_errors: a refused secret is never echoed into a log.
    model_config = SettingsConfigDict(
        env_prefix="CARESCHEDULER_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(
        default="sqlite:///./carescheduler.db",
        validation_alias=AliasChoices("DATABASE_URL", "CARESCHEDULER_DATABASE_URL"),
        description="SQLAlchemy URL: sqlite:///file.db (default) or postgresql+psycopg://...",
    )
    jwt_secret: SecretStr = Field(
        min_length=32,
        description="signs and checks bearer tokens: at least 32 characters and hard to guess "
        f"(at least 10^{SECRET_GUESSES_LOG10} guesses), e.g. secrets.token_urlsafe(48)",
    )
    jwt_issuer: str = "carescheduler"
    token_hours: float = Field(default=12.0, gt=0, description="lifetime of minted tokens")
    token_max_hours: float = Field(
        default=24.0,
        gt=0,
        le=24 * 90,
        description="the longest lifetime (exp - iat) a token may claim, ours or the IdP's",
    )
    session_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 30,
        description="how long a browser stays signed in (the board's session cookie) after signing in",
    )
    sign_in_link_minutes: float = Field(
        default=15.0,
        gt=0,
        le=24 * 60,
        description="how long a one-time sign-in link works (python -m api sign-in-link)",
    )
    idp_jwks: str | None = Field(
        default=None,
        description="the council's identity provider: its JWKS as a file path or an https URL; "
        "RS256 tokens signed by its keys are accepted beside the tokens minted here",
    )
    idp_issuer: str | None = Field(default=None, description="the identity provider's iss (required with idp_jwks)")
    idp_audience: str | None = Field(default=None, description="the aud its tokens must carry for this service")
    idp_org_claim: str = Field(default="org", description="the claim naming the organisation")
    idp_role_claim: str = Field(default="role", description="the claim naming the role")
    idp_carer_claim: str = Field(default="carer", description="the claim naming the carer (carer tokens)")
    idp_roles: dict[str, str] = Field(
        default_factory=dict,
        description='the identity provider\'s role names to ours, e.g. {"CareCoordinator": "coordinator"} '
        "(JSON in the environment); a role not named here must be one of ours",
    )
    revoked_tokens: str | None = Field(
        default=None,
        description="a file listing revoked tokens, one per line: a token's jti, or sub:<subject> for "
        "every token of a subject; read again when it changes",
    )
    max_body_bytes: int = Field(default=20_000_000, gt=0, description="largest request body accepted")
    solve_seconds: float = Field(default=30.0, gt=0, le=3600, description="default time limit of a solve job")
    replan_seconds: float = Field(default=1.0, gt=0, le=60, description="time limit of a replan job")
    solve_seconds_max: float = Field(
        default=300.0, gt=0, le=3600, description="the longest time limit a solve may ask for (longer: 422)"
    )
    solves_per_organisation: int = Field(
        default=4, ge=1, le=1000, description="solves one organisation may have queued or running at once (more: 429)"
    )
    integrations_publish: bool = Field(
        default=False,
        description="integration tokens may queue solves that publish (off: publishing a plan is a coordinator's)",
    )
    day_max: dict[str, int] = Field(
        default_factory=lambda: {"visits": 20_000, "carers": 2_000, "clients": 8_000, "locations": 10_000},
        description="the most a day may hold of each (JSON in the environment); more is refused (422). "
        "Places weigh most: a solve keeps a travel matrix of places x places per travel mode "
        "(10,000 places: 800 MB each)",
    )
    worker: bool = Field(default=True, description="run jobs in worker processes (off: jobs only queue)")
    replan_workers: int = Field(
        default=1, ge=0, le=16, description="worker processes that run replans only (a sick-call never waits)"
    )
    solve_workers: int = Field(default=1, ge=0, le=16, description="worker processes that run any job, urgent first")
    ray_address: str | None = Field(
        default=None,
        description="a Ray cluster ('host:port', or 'auto') the workers send solves and replans to, to compute "
        "there (claiming, storing and publishing stay here; needs Ray installed); unset: they run in the workers",
    )
    timezone: str = Field(default="Europe/London", description="the days' time zone, for the service's clock")
    road_files: dict[str, str] = Field(
        default_factory=dict,
        description='OpenStreetMap extracts the board draws runs along, by travel mode, e.g. {"drive": '
        '"area.drive.osm.bz2", "walk": "area.walk.osm.bz2"} (JSON in the environment); read once, in the '
        "background, when the service starts; without them runs are drawn straight from stop to stop",
    )
    frozen_clock: dt.datetime | None = Field(
        default=None,
        description="the service's clock stands still at this instant (tests, training); unset: the real clock",
    )
    clock_drift_minutes: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="how far past the service's clock a phone's time stamp may be (phone clocks drift); "
        "a later stamp is refused",
    )
    alert_late_minutes: float = Field(
        default=15.0,
        gt=0,
        le=240,
        description="a visit not checked in this long after its planned start raises an alert",
    )
    alert_overrun_minutes: float = Field(
        default=30.0,
        gt=0,
        le=480,
        description="a visit checked in but not out this long after it should have ended raises an alert",
    )
    alert_replan: bool = Field(
        default=False,
        description="a late start or a missed visit also queues a replan that takes the visit as not started "
        "(off: coordinators decide)",
    )
    alert_sweep_seconds: float = Field(default=60.0, gt=0, le=3600, description="how often today's plans are watched")
    stream_poll_seconds: float = Field(
        default=0.5, gt=0, le=60, description="how often a web process reads new feed entries for its streams"
    )
    feed_keep_days: float = Field(
        default=14.0, gt=0, le=3650, description="how long stream and webhook entries are kept (for Last-Event-ID)"
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60, description="how long a receiver may take")
    webhook_max_attempts: int = Field(default=8, ge=1, le=30, description="tries before a delivery is given up")
    webhook_backoff_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="the wait after a failed try, doubled after each further failure"
    )

    @model_validator(mode="after")
    def _someone_solves(self) -> Settings:
        if self.worker and self.solve_workers == 0:
            raise ValueError("solve_workers: 0 would leave solves queued for ever; give 1 or more (or worker=false)")
        return self

    @model_validator(mode="after")
    def _idp_complete(self) -> Settings:
        if self.idp_jwks is not None and not self.idp_issuer:
            raise ValueError("idp_issuer: give the identity provider's issuer with idp_jwks")
        if self.idp_jwks is not None and self.idp_jwks.startswith("http://"):
            raise ValueError("idp_jwks: fetch the keys over https (or give a file)")
        return self

    @field_validator("jwt_secret")
    @classmethod
    def _hard_to_guess(cls, value: SecretStr) -> SecretStr:
        # zxcvbn looks at 72 characters at most: a long random secret is strong in its first 72.
        guesses = zxcvbn(value.get_secret_value()[:72])["guesses_log10"]
        if guesses < SECRET_GUESSES_LOG10:
            raise ValueError(
                f"too easy to guess (about 10^{guesses:.0f} guesses, at least 10^{SECRET_GUESSES_LOG10} needed: "
                "no repeats, words or sequences); make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return value

    @field_validator("ray_address")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        # an empty variable is a mistake (a template left unfilled), not "no cluster": say so
        if value is not None and not value.strip():
            raise ValueError("is empty: give the Ray cluster's 'host:port' (or 'auto'), or leave it unset")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: give an IANA name such as Europe/London") from None
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
