from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"home: {request.user.get_username() or 'anonymous'}")


def login_page(request: HttpRequest) -> HttpResponse:
    return render(request, "login.html")


def login_error(request: HttpRequest) -> HttpResponse:
    return render(request, "login_error.html")
