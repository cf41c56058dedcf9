# views.py - health (database, Redis, Celery), readiness, and a token
# login: POST /api/auth/login/ {"username", "password"} -> {"token"};
# GET /api/auth/profile/ with "Authorization: Bearer TOKEN" ->
# {"username", "roles"}; 401 without a valid token.
import redis
from django.contrib.auth import authenticate
from django.core import signing
from django.db import connection
from django.http import JsonResponse
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .auth import TOKEN_SALT
from .celery import app as celery_app
from django.conf import settings



def _database():
    with connection.cursor() as c:
        c.execute("SELECT 1")
        c.fetchone()


def _redis():
    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1,
                         socket_connect_timeout=1).ping()


def _celery():
    if not celery_app.control.ping(timeout=1.0, limit=1):
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
