"""The sandbox's demo people: a Django user plus the Ion profile it answers with."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models

#: ``/api/profile`` keys in the order Ion sends them. ``student_id`` is sent only when the
#: person's stored profile has it (Ion's recorded student profile lacks it, the teacher's
#: carries ``null``); ``id`` and ``picture`` come from the person and the request.
PROFILE_KEYS = (
    "id",
    "ion_username",
    "sex",
    "title",
    "display_name",
    "full_name",
    "short_name",
    "first_name",
    "last_name",
    "nickname",
    "tj_email",
    "student_id",
    "grade",
    "graduation_year",
    "user_type",
    "counselor",
    "administrator",
    "picture",
    "is_eighth_admin",
    "is_teacher",
    "is_student",
)


class Person(models.Model):
    """One demo person; the primary key is the user's id, which is also the Ion id."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="person"
    )
    profile = models.JSONField(help_text="Ion profile fields other than id and picture.")
    groups = models.JSONField(default=list, help_text="Ion group names, for the OIDC claim.")
    is_sysadmin = models.BooleanField(default=False)

    # Declared so type checkers see it even where the sandbox app is not installed.
    objects: ClassVar[models.Manager[Person]] = models.Manager()

    def __str__(self) -> str:
        profile = self.profile
        return f"{self.pk}  {profile['ion_username']:<12} {profile['full_name']} ({self.described})"

    @property
    def described(self) -> str:
        """Who they are on Ion, as ``demo.py`` says it: "student, class of 2027",
        "teacher and eighth period admin"."""
        profile = self.profile
        words = str(profile["user_type"])
        if profile.get("graduation_year") and profile["user_type"] == "student":
            words += f", class of {profile['graduation_year']}"
        if profile.get("is_eighth_admin"):
            words += " and eighth period admin"
        return words

    def ion_profile(self, picture_url: str) -> dict[str, Any]:
        """The ``/api/profile`` document, keys in Ion's order."""
        values = {**self.profile, "id": self.pk, "picture": picture_url}
        return {key: values[key] for key in PROFILE_KEYS if key in values}
