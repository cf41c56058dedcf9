# urls.py - the API routes suites/staging.json checks.
from django.urls import path

from . import views

urlpatterns = [
    path("api/system/health/", views.health),
    path("api/system/readiness/", views.readiness),
    path("api/auth/login/", views.Login.as_view()),
    path("api/auth/profile/", views.Profile.as_view()),
]
