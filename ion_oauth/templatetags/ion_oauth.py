"""``{% load ion_oauth %}{% ion_login_button %}``: the "Log in with Ion" button."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def ion_login_button(
    context: template.Context,
    next: str | None = None,
    label: str = "Log in with Ion",
    backend: str = "ion",
) -> SafeString:
    """Render a POST form to ``/login/<backend>/`` with the CSRF token and ``next``.

    ``next`` defaults to the current page's ``?next=``. A POST form works on every
    social-auth-app-django release: 8.x accepts only POST, older ones accept both.
    """
    request = context.get("request")
    if next is None and request is not None:
        next = request.GET.get("next")
    values: dict[str, Any] = {
        "action": reverse("social:begin", args=[backend]),
        "next": next or "",
        "label": label,
        "backend": backend,
    }
    return render_to_string("ion_oauth/login_button.html", values, request=request)
