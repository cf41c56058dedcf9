# views.py - health (database, Redis, Celery), readiness, and a token
# login: POST /api/auth/login/ {"username", "password"} -> {"token"};
# GET /api/auth/profile/ with "Authorization: Bearer TOKEN" ->
# {"username", "roles"}; 401 without a valid token.
import redis
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core import signing
from django.db import connection
from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .celery import app as celery_app
from django.conf import settings

TOKEN_SALT = "stackapp.token"
TOKEN_MAX_AGE = 3600  # seconds


def _database():
    with connection.cursor() as c:
        c.execute("SELECT 1")
        c.fetchone()


def _redis():
    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1,
                         socket_connect_timeout=1).ping()


def _celery():
    if not celery_app.control.ping(timeout=1.0):
        raise RuntimeError("no worker answered")


def health(request):
    checks, ok = {}, True
    for name, probe in (("database", _database), ("redis", _redis),
                        ("celery", _celery)):
        if name == "celery" and checks.get("redis") != "ok":
            checks[name] = "unknown: redis is down"
            ok = False
            continue
        try:
            probe()
            checks[name] = "ok"
        except Exception as e:  # the reason goes into the answer
            checks[name] = "error: %s" % (str(e).splitlines() or [type(e).__name__])[0]
            ok = False
    return JsonResponse({"status": "ok" if ok else "unhealthy", "checks": checks},
                        status=200 if ok else 503)


def readiness(request):
    try:
        _database()
    except Exception:
        return JsonResponse({"ready": False}, status=503)
    return JsonResponse({"ready": True})


class BearerToken(BaseAuthentication):
    def authenticate(self, request):
        h = request.META.get("HTTP_AUTHORIZATION", "")
        if not h.startswith("Bearer "):
            return None
        try:
            name = signing.loads(h[7:], salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)["u"]
            return (User.objects.get(username=name, is_active=True), None)
        except (signing.BadSignature, KeyError, User.DoesNotExist):
            raise exceptions.AuthenticationFailed("invalid or expired token")

    def authenticate_header(self, request):
        return "Bearer"


class Login(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        user = authenticate(username=request.data.get("username"),
                            password=request.data.get("password"))
        if user is None:
            return Response({"detail": "invalid credentials"}, status=401)
        return Response({"token": signing.dumps({"u": user.username}, salt=TOKEN_SALT)})


class Profile(APIView):
    def get(self, request):
        return Response({"username": request.user.username,
                         "roles": sorted(g.name for g in request.user.groups.all())})
