"""Settings for the test suite: the real settings, with fast hashing, the in-memory channel layer
and synchronous tasks for unit tests. Integration tests (marked) override these with the real
Redis channel layer and a real qcluster, on the database named by DATABASE_URL."""

import os

from mediastudio.settings import *  # noqa: F403
from mediastudio.settings import DATABASES, Q_CLUSTER, VAR_DIR

# MD5 keeps unit tests fast; PBKDF2 stays available for users that real server processes log in.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
MEDIA_ROOT = VAR_DIR / "test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SAFE_FETCH_ALLOW_LOOPBACK = True  # provider fakes serve results from 127.0.0.1
FIELD_ENCRYPTION_KEYS = ["p3y6cP1n1mF4j3nJjv2mR9mYf2Q1m3bqKJ0c8W4x3nE="]

# A file (not memory) so worker and web processes started by integration tests share it; one per
# test session, so two sessions on one machine never write the same file.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
