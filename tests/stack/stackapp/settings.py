# settings.py - a staging-like configuration from the environment:
# DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, CORS_ORIGIN,
# STATIC_ROOT; STACK_NO_SECURITY_MIDDLEWARE=1 leaves Django's
# SecurityMiddleware out (the fault test_stack.sh plants).
import os
from urllib.parse import unquote, urlsplit

import django.contrib.admin

env = os.environ
SECRET_KEY = env["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = env.get("ALLOWED_HOSTS", "127.0.0.1").split(",")
ROOT_URLCONF = "stackapp.urls"
WSGI_APPLICATION = "stackapp.wsgi.application"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if env.get("STACK_NO_SECURITY_MIDDLEWARE") == "1":
    MIDDLEWARE.remove("django.middleware.security.SecurityMiddleware")

# behind nginx, which terminates TLS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

CORS_ALLOWED_ORIGINS = [env["CORS_ORIGIN"]]
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = True

_db = urlsplit(env["DATABASE_URL"])
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": unquote(_db.username or ""),
        "PASSWORD": unquote(_db.password or ""),
        "HOST": _db.hostname,
        "PORT": _db.port,
        "OPTIONS": {"connect_timeout": 2},
    }
}

REDIS_URL = env["REDIS_URL"]
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_BROKER_CONNECTION_TIMEOUT = 2

STATIC_URL = "/static/"
STATIC_ROOT = env.get("STATIC_ROOT")
STATICFILES_DIRS = [os.path.join(os.path.dirname(django.contrib.admin.__file__), "static")]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["stackapp.auth.BearerToken"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
