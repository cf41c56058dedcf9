# auth.py - bearer tokens: a username signed with SECRET_KEY, valid for
# TOKEN_MAX_AGE seconds. Kept out of views.py: DRF's settings import it
# while views.py is being imported.
from django.contrib.auth.models import User
from django.core import signing
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

TOKEN_SALT = "stackapp.token"
TOKEN_MAX_AGE = 3600  # seconds


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
