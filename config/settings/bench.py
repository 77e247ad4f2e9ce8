"""Benchmark settings (make bench, make soak): the base settings served as production
would be (DEBUG off, no debug toolbar, plain static storage so no collectstatic is
needed), plus one bare view inside the full middleware stack at /bench/ok."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

from .base import *  # noqa: E402, F403

ROOT_URLCONF = "benchmarks.urls"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
# Benchmark customers sign in with a fast hash; their passwords are throwaway.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
