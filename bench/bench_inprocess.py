"""The in-process half of the benchmark: logins through Django's test client, with Ion and
GitLab answered by ``responses``, so no network is involved.

Measures the backend's CPU time beside social-core's GitLab backend, requests to the
provider per login, and database queries per login with two pipelines. Needs Django
configured (``bench_settings`` or any site with ``social_django`` installed); every
setting it relies on is overridden here.
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from social_core.backends.gitlab import GitLabOAuth2
from social_core.pipeline import DEFAULT_AUTH_PIPELINE
from social_django.strategy import DjangoStrategy

from ion_oauth.oauth import IonOauth2

ION = "https://ion.bench.invalid"
GITLAB = "https://gitlab.bench.invalid"

BACKENDS: dict[str, type[Any]] = {"ion": IonOauth2, "gitlab": GitLabOAuth2}
#: Where each provider's token and profile requests go, for counting them.
PROVIDER_URLS = {"ion": ION, "gitlab": GITLAB}

#: The same token response for both providers (Ion's, as recorded in tests/fixtures/ion).
TOKEN = {
    "access_token": "kD2VfQn8s1bXwY3pA6tZc9rHm4uLe0",
    "expires_in": 36000,
    "token_type": "Bearer",
    "scope": "read",
    "refresh_token": "Pz7QwE2rT9yU4iO1pA8sD5fG3hJ6kL",
}


def ion_profile(person: int) -> dict[str, Any]:
    """Ion's ``/api/profile`` for a student (the shape of profile_student.json)."""
    username = f"2027p{person:05d}"
    return {
        "id": person,
        "ion_username": username,
        "sex": "",
        "title": None,
        "display_name": f"Pat {person}",
        "full_name": f"Pat {person}",
        "short_name": "Pat",
        "first_name": "Pat",
        "last_name": str(person),
        "nickname": None,
        "tj_email": f"{username}@tjhsst.edu",
        "grade": {"number": 12, "name": "senior"},
        "graduation_year": 2027,
        "user_type": "student",
        "counselor": None,
        "administrator": None,
        "picture": f"{ION}/api/profile/{person}/picture",
        "is_eighth_admin": False,
        "is_teacher": False,
        "is_student": True,
    }


def gitlab_user(person: int) -> dict[str, Any]:
    """GitLab's ``/api/v4/user`` for the same person, about as large as Ion's profile."""
    username = f"2027p{person:05d}"
    return {
        "id": person,
        "username": username,
        "name": f"Pat {person}",
        "state": "active",
        "locked": False,
        "avatar_url": f"{GITLAB}/uploads/-/system/user/avatar/{person}/avatar.png",
        "web_url": f"{GITLAB}/{username}",
        "created_at": "2024-09-03T12:00:00.000Z",
        "bio": "",
        "location": "",
        "public_email": None,
        "email": f"{username}@tjhsst.edu",
        "theme_id": 1,
        "color_scheme_id": 1,
        "projects_limit": 100000,
        "two_factor_enabled": False,
        "external": False,
        "private_profile": False,
        "bot": False,
    }


def settings_for(backend: str, pipeline: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Settings for logins through ``backend`` with ``pipeline``; the other backend is
    left out of AUTHENTICATION_BACKENDS so Django never tries it first."""
    cls = BACKENDS[backend]
    return {
        "ROOT_URLCONF": "bench_urls",
        "AUTHENTICATION_BACKENDS": [
            f"{cls.__module__}.{cls.__qualname__}",
            "django.contrib.auth.backends.ModelBackend",
        ],
        "SOCIAL_AUTH_PIPELINE": list(pipeline),
        "SOCIAL_AUTH_ION_KEY": "bench-client",
        "SOCIAL_AUTH_ION_SECRET": "bench-secret",
        "SOCIAL_AUTH_ION_BASE_URL": ION,
        "SOCIAL_AUTH_GITLAB_KEY": "bench-client",
        "SOCIAL_AUTH_GITLAB_SECRET": "bench-secret",
        "SOCIAL_AUTH_GITLAB_API_URL": GITLAB,
        "SOCIAL_AUTH_RAISE_EXCEPTIONS": True,
    }


class CpuTimer:
    """Thread CPU time spent inside ``auth_complete`` and inside the strategy's
    ``authenticate`` (the pipeline and Django's auth), for the login being measured."""

    def __init__(self) -> None:
        self.auth_complete = 0
        self.authenticate = 0

    def reset(self) -> None:
        """Start counting a new login."""
        self.auth_complete = 0
        self.authenticate = 0

    def wrap(self, function: Callable[..., Any], slot: str) -> Callable[..., Any]:
        """``function`` with its thread CPU time added to ``slot``."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time_ns()
            try:
                return function(*args, **kwargs)
            finally:
                setattr(self, slot, getattr(self, slot) + time.thread_time_ns() - start)

        return timed

    @contextmanager
    def installed(self) -> Iterator[CpuTimer]:
        """Wrap both backends' ``auth_complete`` and the strategy's ``authenticate``."""
        patched = [(cls, "auth_complete", "auth_complete") for cls in BACKENDS.values()]
        patched.append((DjangoStrategy, "authenticate", "authenticate"))
        saved = [(cls, name, cls.__dict__.get(name)) for cls, name, _ in patched]
        for cls, name, slot in patched:
            setattr(cls, name, self.wrap(getattr(cls, name), slot))
        try:
            yield self
        finally:
            for cls, name, original in saved:
                if original is None:
                    delattr(cls, name)
                else:
                    setattr(cls, name, original)


class FakeProviders:
    """Ion and GitLab answered in-process; ``person`` picks whose profile they return."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.person = 1
        self.tokens = itertools.count(1)
        for base in (ION, GITLAB):
            for url in (f"{base}/oauth/token/", f"{base}/oauth/token"):
                mock.add_callback(responses.POST, url, callback=self._token)
        mock.add_callback(responses.GET, f"{ION}/api/profile", callback=self._ion)
        mock.add_callback(responses.GET, f"{GITLAB}/api/v4/user", callback=self._gitlab)

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        # A new access token each time, as from a real provider: the repeat login then
        # stores new extra_data, as it does in production.
        token = {**TOKEN, "access_token": f"{TOKEN['access_token']}{next(self.tokens)}"}
        return 200, {"Content-Type": "application/json"}, json.dumps(token)

    def _ion(self, request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {"Content-Type": "application/json"}, json.dumps(ion_profile(self.person))

    def _gitlab(self, request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {"Content-Type": "application/json"}, json.dumps(gitlab_user(self.person))

    def calls_to(self, backend: str) -> int:
        """Requests sent to ``backend``'s provider so far."""
        base = PROVIDER_URLS[backend]
        return sum(1 for call in self.mock.calls if str(call.request.url).startswith(base))


def begin(client: Client, backend: str) -> str:
    """Start a login (POST /login/<backend>/) and return the state sent to the provider."""
    response = client.post(f"/login/{backend}/")
    if response.status_code != 302:
        raise RuntimeError(f"/login/{backend}/ answered {response.status_code}")
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def complete(client: Client, backend: str, state: str) -> None:
    """The provider's redirect back: GET /complete/<backend>/; it must log the user in."""
    response = client.get(f"/complete/{backend}/", {"code": "bench-code", "state": state})
    if response.status_code != 302 or response["Location"] != "/":
        raise RuntimeError(f"/complete/{backend}/ did not log in: {response.status_code}")


@contextmanager
def fake_site() -> Iterator[FakeProviders]:
    """Both providers faked for the duration; nothing else may use the network."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeProviders(mock)


# -- CPU time beside GitLab ----------------------------------------------------------------


def measure_cpu(*, repetitions: int, logins: int) -> dict[str, Any]:
    """Repeat logins through both backends, interleaved login by login.

    Per repetition and backend: the median thread CPU time of one login's callback, of
    ``auth_complete``, and of the backend's own part (``auth_complete`` minus the
    strategy's ``authenticate``, i.e. without the pipeline and Django's auth). The ratio
    of each repetition's medians, then the median ratio over the repetitions.
    """
    pipeline = list(DEFAULT_AUTH_PIPELINE)
    timer = CpuTimer()
    samples: dict[str, dict[str, list[list[int]]]] = {
        name: {"callback": [], "auth_complete": [], "own": []} for name in BACKENDS
    }
    with fake_site() as providers, timer.installed():
        providers.person = 900_001
        for name in BACKENDS:  # warm-up: imports, first queries, the user rows
            with override_settings(**settings_for(name, pipeline)):
                for _ in range(3):
                    client = Client()
                    complete(client, name, begin(client, name))
        for repetition in range(repetitions):
            per_rep: dict[str, dict[str, list[int]]] = {
                name: {"callback": [], "auth_complete": [], "own": []} for name in BACKENDS
            }
            for index in range(logins):
                order = list(BACKENDS)
                if (repetition + index) % 2:
                    order.reverse()
                for name in order:
                    with override_settings(**settings_for(name, pipeline)):
                        client = Client()
                        state = begin(client, name)
                        timer.reset()
                        start = time.thread_time_ns()
                        complete(client, name, state)
                        callback = time.thread_time_ns() - start
                    per_rep[name]["callback"].append(callback)
                    per_rep[name]["auth_complete"].append(timer.auth_complete)
                    per_rep[name]["own"].append(timer.auth_complete - timer.authenticate)
            for name in BACKENDS:
                for key, values in per_rep[name].items():
                    samples[name][key].append(values)

    result: dict[str, Any] = {"repetitions": repetitions, "logins_per_repetition": logins}
    for key in ("own", "auth_complete", "callback"):
        ratios = []
        medians: dict[str, list[float]] = {name: [] for name in BACKENDS}
        for repetition in range(repetitions):
            rep = {name: statistics.median(samples[name][key][repetition]) for name in BACKENDS}
            for name in BACKENDS:
                medians[name].append(rep[name])
            ratios.append(rep["ion"] / rep["gitlab"])
        result[key] = {
            "ratio": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            **{f"{name}_us": statistics.median(medians[name]) / 1000 for name in BACKENDS},
        }
    return result


# -- requests and database queries per login --------------------------------------------------


def ion_steps_removed(pipeline: list[str]) -> list[str]:
    """``pipeline`` without this package's steps, to see what they add."""
    return [step for step in pipeline if not step.startswith("ion_oauth.")]


def measure_queries(*, recommended: list[str], repetitions: int = 1) -> dict[str, Any]:
    """Queries of the callback request (the whole of it, session included) for a first and
    a repeat login, with the recommended pipeline, social-core's default pipeline and the
    recommended one without ion_oauth's steps. Also counts requests to Ion per login.

    Each case logs in people of its own, after one warm-up login that creates the groups,
    so "first" is a person's first login on a site that has seen logins before.
    """
    pipelines = {
        "recommended": list(recommended),
        "social_core_default": list(DEFAULT_AUTH_PIPELINE),
        "recommended_without_ion_steps": ion_steps_removed(list(recommended)),
    }
    result: dict[str, Any] = {"pipelines": pipelines, "cases": {}}
    requests_per_login: list[int] = []
    with fake_site() as providers:
        with override_settings(**settings_for("ion", pipelines["recommended"])):
            providers.person = 800_000
            client = Client()
            complete(client, "ion", begin(client, "ion"))
        for case_index, (case, pipeline) in enumerate(pipelines.items()):
            first: list[int] = []
            repeat: list[int] = []
            sql: dict[str, list[str]] = {}
            with override_settings(**settings_for("ion", pipeline)):
                for repetition in range(repetitions):
                    providers.person = 810_000 + case_index * 1000 + repetition
                    for kind, counts in (("first", first), ("repeat", repeat)):
                        client = Client()
                        state = begin(client, "ion")
                        calls_before = providers.calls_to("ion")
                        with CaptureQueriesContext(connection) as queries:
                            complete(client, "ion", state)
                        requests_per_login.append(providers.calls_to("ion") - calls_before)
                        counts.append(len(queries.captured_queries))
                        sql[kind] = [q["sql"] for q in queries.captured_queries]
            result["cases"][case] = {
                "first": max(first),
                "repeat": max(repeat),
                "stable": len(set(first)) == 1 and len(set(repeat)) == 1,
                "sql": sql,
            }
    cases = result["cases"]
    result["repeat_added_vs_default"] = (
        cases["recommended"]["repeat"] - cases["social_core_default"]["repeat"]
    )
    result["repeat_added_by_ion_steps"] = (
        cases["recommended"]["repeat"] - cases["recommended_without_ion_steps"]["repeat"]
    )
    result["requests_per_login"] = max(requests_per_login)
    result["requests_per_login_stable"] = len(set(requests_per_login)) == 1
    return result


def run(*, recommended: list[str], repetitions: int, logins: int) -> dict[str, Any]:
    """Both in-process measurements."""
    return {
        "queries": measure_queries(recommended=recommended, repetitions=min(repetitions, 3)),
        "cpu": measure_cpu(repetitions=repetitions, logins=logins),
    }
