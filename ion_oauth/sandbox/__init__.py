"""A local Ion: an OAuth2 + OpenID Connect provider built on django-oauth-toolkit, set up
like the real Ion (https://ion.tjhsst.edu), with demo people and ready-made clients.

Run it with ``python -m ion_oauth.sandbox`` (needs ``pip install ion-oauth[sandbox]``);
``--help`` lists the options. Test suites start it with :class:`ion_oauth.testing.IonSandbox`.

``--people FILE.json`` adds or updates people. The file holds a JSON list of objects with
Ion's ``/api/profile`` fields; only ``ion_username``, ``first_name`` and ``last_name`` are
required, the rest is derived as Ion would::

    [
      {"id": 10, "ion_username": "2028asmith", "first_name": "Alex", "last_name": "Smith",
       "user_type": "student", "graduation_year": 2028},
      {"ion_username": "jteach", "first_name": "Jo", "last_name": "Teach",
       "user_type": "teacher", "title": "mx", "student_id": null,
       "groups": ["admin_eighth"], "is_eighth_admin": true}
    ]

Accepted keys: ``id`` (default: the next free id; an existing id updates that person),
``ion_username``, ``sex``, ``title``, ``display_name``, ``full_name``, ``short_name``,
``first_name``, ``last_name``, ``nickname``, ``tj_email`` (default
``<username>@tjhsst.edu`` for students, ``@fcps.edu`` otherwise), ``student_id`` (shown,
as on Ion, only to teachers and eighth-period admins), ``grade`` (default: from ``graduation_year``), ``graduation_year``,
``user_type`` (default ``"student"``), ``counselor``, ``administrator``, ``is_eighth_admin``,
``is_teacher``, ``is_student``, and for OpenID Connect ``groups`` (list of names) and
``is_sysadmin``. ``picture`` is always the sandbox's own URL.

``--data FILE.json`` replaces the demo schedule, eighth period, announcements, bus routes and
emergency status; the format is in :mod:`ion_oauth.sandbox.api_data`.
"""
