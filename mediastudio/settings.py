"""MediaStudio settings: one module, driven by environment variables.

A fresh checkout runs on the embedded defaults (SQLite, local files, a Redis the runner starts,
embedded providers). Production sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL,
REDIS_URL and, for S3-compatible storage, AWS_STORAGE_BUCKET_NAME (+ AWS_S3_ENDPOINT_URL for R2/MinIO).
See README.md for the full list.
"""

from __future__ import annotations

import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from mediastudio.lib.env import env_bool, env_float, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MEDIASTUDIO_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)
_DEV_SECRET = "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env_secret("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false (or SECRET_KEY_FILE pointing at a file).")
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("SECRET_KEY is the development key; set a real one when DEBUG is false.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names when DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_q",
    "mediastudio",
    "mediastudio.jobs",
    "campaigns",
    "media_assets",
    "generation",
    "audio",
    "publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "campaigns.middleware.CurrentWorkspaceMiddleware",
]

ROOT_URLCONF = "mediastudio.urls"
ASGI_APPLICATION = "mediastudio.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "campaigns.context_processors.workspaces",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user:pass@host:5432/name), SQLite under var/ by default.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
    except Exception as exc:  # dj_database_url raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded database lives here
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # WAL lets the web process read while the worker writes.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
            "TEST": {"NAME": str(VAR_DIR / "test-db.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNELS_PREFIX", "mediastudio")},
    }
}

# django-q2. retry must stay well above the longest timeout, or a slow task runs twice.
Q_TIMEOUT = env_int("Q_TIMEOUT", 1800, minimum=10)
Q_CLUSTER = {
    # The GPU worker starts with Q_CLUSTER_NAME=gpu and takes only the "gpu" queue (ALT_CLUSTERS).
    "name": "mediastudio",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": Q_TIMEOUT,
    "retry": env_int("Q_RETRY", Q_TIMEOUT * 2, minimum=20),
    "max_attempts": 1,  # retries are the job table's business (attempts, reaper), not the broker's
    "ack_failures": True,
    "catch_up": False,
    # Successful task records are not kept (-1): the Job table holds every job's outcome, and with
    # a positive limit django-q loads and locks every kept record after each task. Failures are kept.
    "save_limit": env_int("Q_SAVE_LIMIT", -1, minimum=-1),
    "poll": 0.2,
    "redis": REDIS_URL,
    "ALT_CLUSTERS": {"gpu": {"workers": 1, "timeout": Q_TIMEOUT}},
}
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 120, minimum=10)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
FILE_UPLOAD_TEMP_DIR = None  # Django's default temp dir; uploads over 2.5 MB stream to disk
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Storage: local folder by default; S3-compatible (AWS, R2, MinIO) when a bucket is set.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL", "") or None
    AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "") or None
    AWS_ACCESS_KEY_ID = env_secret("AWS_ACCESS_KEY_ID")
    AWS_SECRET_ACCESS_KEY = env_secret("AWS_SECRET_ACCESS_KEY")
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True  # private objects, short-lived signed URLs
    AWS_QUERYSTRING_EXPIRE = env_int("AWS_QUERYSTRING_EXPIRE", 600, minimum=30)
    AWS_S3_FILE_OVERWRITE = False
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    AWS_S3_ADDRESSING_STYLE = env_str("AWS_S3_ADDRESSING_STYLE", "auto")
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"location": env_str("AWS_LOCATION", "")},
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Media caps (uploads and downloads alike).
MEDIA_MAX_UPLOAD_BYTES = env_int("MEDIA_MAX_UPLOAD_BYTES", 2 * 1024**3, minimum=1024)
MEDIA_MAX_DURATION_SECONDS = env_int("MEDIA_MAX_DURATION_SECONDS", 600, minimum=1)
MEDIA_MAX_DIMENSION = env_int("MEDIA_MAX_DIMENSION", 4096, minimum=16)
MEDIA_MAX_FPS = env_int("MEDIA_MAX_FPS", 120, minimum=1)
MEDIA_MAX_IMAGE_PIXELS = env_int("MEDIA_MAX_IMAGE_PIXELS", 40_000_000, minimum=1024)
MEDIA_RETENTION_DAYS = env_int("MEDIA_RETENTION_DAYS", 30, minimum=1)  # unreferenced generated assets
MEDIA_TEMP_DIR = Path(env_str("MEDIA_TEMP_DIR", str(VAR_DIR / "tmp" / "media")))
MEDIA_SYNC_PREVIEW_MAX_BYTES = env_int("MEDIA_SYNC_PREVIEW_MAX_BYTES", 50 * 1024**2, minimum=0)  # larger: an ingest job
MEDIA_SYNC_PREVIEW_MAX_SECONDS = env_int("MEDIA_SYNC_PREVIEW_MAX_SECONDS", 60, minimum=0)
MEDIA_STREAM_URL_EXPIRE = env_int("MEDIA_STREAM_URL_EXPIRE", 600, minimum=30)
MEDIA_TEMP_MAX_AGE_HOURS = env_int("MEDIA_TEMP_MAX_AGE_HOURS", 6, minimum=1)
MEDIA_ORPHAN_GRACE_HOURS = env_int("MEDIA_ORPHAN_GRACE_HOURS", 24, minimum=1)
MEDIA_MAX_SUBTITLE_BYTES = env_int("MEDIA_MAX_SUBTITLE_BYTES", 5 * 1024**2, minimum=1024)
SAFE_FETCH_ALLOWED_PORTS = [int(p) for p in env_list("SAFE_FETCH_ALLOWED_PORTS", ["80", "443"])]
# Development only: lets the studio download provider results from 127.0.0.1 (the local fake servers of
# tests/fakes/serve.py). Refused when DEBUG is off.
SAFE_FETCH_ALLOW_LOOPBACK = env_bool("SAFE_FETCH_ALLOW_LOOPBACK", False)
if SAFE_FETCH_ALLOW_LOOPBACK and not DEBUG:
    raise ImproperlyConfigured("SAFE_FETCH_ALLOW_LOOPBACK is for local fake providers only; it cannot be on when DEBUG is false.")
# The ffmpeg that renders compositions; empty: the build shipped by the imageio-ffmpeg package
# (FFmpeg 9, threaded pipeline), else ffmpeg on PATH. Everything else uses ffmpeg/ffprobe on PATH.
RENDER_FFMPEG = env_str("RENDER_FFMPEG", "")
RENDER_CRF = env_int("RENDER_CRF", 20, minimum=0)
RENDER_PRESET = env_str("RENDER_PRESET", "veryfast")
RENDER_ENCODER = env_str("RENDER_ENCODER", "auto")  # auto | x264 | nvenc
RENDER_THREADS = env_int("RENDER_THREADS", 0, minimum=0)  # x264 threads; 0: its own choice
# Emoji in captions and end cards: drawn in colour from this font ("auto": Debian's Noto Color Emoji,
# fonts-noto-color-emoji, when installed; "none": as outlines in the caption's colour; else a font file).
RENDER_EMOJI_FONT = env_str("RENDER_EMOJI_FONT", "auto")
if RENDER_EMOJI_FONT.strip().lower() not in ("auto", "none", "off", "") and not Path(RENDER_EMOJI_FONT).is_file():
    raise ImproperlyConfigured(f"RENDER_EMOJI_FONT must be auto, none or a font file; {RENDER_EMOJI_FONT!r} is no file.")

# Secrets at rest (OAuth tokens, per-workspace provider keys): Fernet keys, newest first.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])

# Providers: each is enabled by its key; <VENDOR>_ENABLED=false turns one off.
RUNWAY_API_KEY = env_secret("RUNWAY_API_KEY")
RUNWAY_BASE_URL = env_str("RUNWAY_BASE_URL", "https://api.dev.runwayml.com")
GEMINI_API_KEY = env_secret("GEMINI_API_KEY")
GEMINI_BASE_URL = env_str("GEMINI_BASE_URL", "https://generativelanguage.googleapis.com")
KLING_ACCESS_KEY = env_secret("KLING_ACCESS_KEY")
KLING_SECRET_KEY = env_secret("KLING_SECRET_KEY")
KLING_BASE_URL = env_str("KLING_BASE_URL", "https://api-singapore.klingai.com")
LUMA_API_KEY = env_secret("LUMA_API_KEY")
LUMA_BASE_URL = env_str("LUMA_BASE_URL", "https://agents.lumalabs.ai/v1")
LUMA_DREAM_MACHINE_API_KEY = env_secret("LUMA_DREAM_MACHINE_API_KEY")
LUMA_DREAM_MACHINE_BASE_URL = env_str("LUMA_DREAM_MACHINE_BASE_URL", "https://api.lumalabs.ai/dream-machine/v1")
FAL_KEY = env_secret("FAL_KEY")
FAL_BASE_URL = env_str("FAL_BASE_URL", "https://queue.fal.run")
FAL_JWKS_URL = env_str("FAL_JWKS_URL", "")  # empty: the documented default in generation/providers/webhooks.py
REPLICATE_API_TOKEN = env_secret("REPLICATE_API_TOKEN")
REPLICATE_BASE_URL = env_str("REPLICATE_BASE_URL", "https://api.replicate.com")
REPLICATE_WEBHOOK_SECRET = env_secret("REPLICATE_WEBHOOK_SECRET")
OPENAI_API_KEY = env_secret("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "https://api.openai.com")
# The OpenAI video protocol (/v1/videos): OpenAI retired Sora on 2026-09-24; gateways still speak it.
OPENAI_VIDEO_API_KEY = env_secret("OPENAI_VIDEO_API_KEY")
OPENAI_VIDEO_BASE_URL = env_str("OPENAI_VIDEO_BASE_URL", "")
OPENAI_VIDEO_MODEL = env_str("OPENAI_VIDEO_MODEL", "")
OPENAI_VIDEO_WEBHOOK_SECRET = env_secret("OPENAI_VIDEO_WEBHOOK_SECRET")
ELEVENLABS_API_KEY = env_secret("ELEVENLABS_API_KEY")
ELEVENLABS_BASE_URL = env_str("ELEVENLABS_BASE_URL", "https://api.elevenlabs.io")
ELEVENLABS_MUSIC_MODEL = env_str("ELEVENLABS_MUSIC_MODEL", "music_v1")
ANIMATIC_WORK_DIR = env_str("ANIMATIC_WORK_DIR", "")  # unset: var/animatic; shared by the workers that render and poll
DIFFUSERS_MODEL_DIR = env_str("DIFFUSERS_MODEL_DIR", "")
# The GPU worker's generation settings (generation/providers/diffusers_local.py says what each does).
DIFFUSERS_WORK_DIR = env_str("DIFFUSERS_WORK_DIR", "")  # unset: var/diffusers
DIFFUSERS_DEVICE = env_str("DIFFUSERS_DEVICE", "")  # unset: cuda when available, else cpu
DIFFUSERS_FPS = env_int("DIFFUSERS_FPS", 8, minimum=1)
DIFFUSERS_STEPS = env_int("DIFFUSERS_STEPS", 25, minimum=1)
DIFFUSERS_GUIDANCE = env_float("DIFFUSERS_GUIDANCE", 7.5, minimum=0)
DIFFUSERS_MAX_FRAMES = env_int("DIFFUSERS_MAX_FRAMES", 49, minimum=2)
DIFFUSERS_FRAME_SIZE = env_str("DIFFUSERS_FRAME_SIZE", "")  # "WxH": the model's native size
if DIFFUSERS_FRAME_SIZE and not re.fullmatch(r"[1-9]\d*x[1-9]\d*", DIFFUSERS_FRAME_SIZE.lower()):
    raise ImproperlyConfigured(f"DIFFUSERS_FRAME_SIZE must be WIDTHxHEIGHT, such as 256x256, not {DIFFUSERS_FRAME_SIZE!r}.")
DIFFUSERS_VAE_SLICING = env_bool("DIFFUSERS_VAE_SLICING", True)
DIFFUSERS_DTYPE = env_str("DIFFUSERS_DTYPE", "")  # unset: float16 on a GPU, float32 on the CPU
if DIFFUSERS_DTYPE not in ("", "float16", "bfloat16", "float32"):
    raise ImproperlyConfigured(f"DIFFUSERS_DTYPE must be float16, bfloat16 or float32, not {DIFFUSERS_DTYPE!r}.")
WHISPER_MODEL = env_str("WHISPER_MODEL", "")  # a local CTranslate2 model dir; default: the bundled tiny.en
WHISPER_DEVICE = env_str("WHISPER_DEVICE", "cpu")
WHISPER_COMPUTE_TYPE = env_str("WHISPER_COMPUTE_TYPE", "int8")

# <VENDOR>_ENABLED: unset = on when its key is present; false = off; true = on, and a missing key fails the checks.
for _vendor in ("RUNWAY", "VEO", "KLING", "LUMA", "FAL", "REPLICATE", "OPENAI_VIDEO", "ELEVENLABS", "OPENAI_SPEECH", "DIFFUSERS"):
    globals()[f"{_vendor}_ENABLED"] = env_bool(f"{_vendor}_ENABLED", None)  # type: ignore[arg-type]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "mediastudio.lib.api.StudioPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "mediastudio.lib.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"user": "600/minute"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MediaStudio API",
    "DESCRIPTION": "Turn a campaign brief into platform-ready videos.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Self-hosted Swagger UI assets: the docs page works without a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets several serializers share (an asset's kind and status in a listing and in an upload's answer).
    "ENUM_NAME_OVERRIDES": {
        "AssetKindEnum": "media_assets.models.MediaAsset.Kind",
        "AssetStatusEnum": "media_assets.models.MediaAsset.Status",
        "JobKindEnum": "mediastudio.jobs.models.Job.Kind",
        "JobStatusEnum": "mediastudio.jobs.models.Job.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django_q": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}

# Production hardening: on whenever DEBUG is off.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", not DEBUG) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
WHITENOISE_USE_FINDERS = DEBUG  # development serves static files straight from static/, no collectstatic
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
