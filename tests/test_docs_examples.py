"""Every Python block of the README and of ``docs/`` is checked, so the examples cannot rot.

Sybil finds the blocks (it reads MyST Markdown); each one is then:

- compiled, and its imports executed: a renamed module or name fails here;
- searched for dotted paths in strings (``"ion_oauth.pipeline.sync_profile"``, a backend in
  ``AUTHENTICATION_BACKENDS``, ``include("ion_oauth.urls")``), each imported;
- searched for attributes of ion-oauth's classes and of objects made by them
  (``IonClient.for_user(...)``, then ``client.blocks(...)``), each looked up on the class;
- when it is a settings fragment (only imports and assignments to UPPERCASE names), executed in
  the namespace of a new ``django-admin startproject`` settings module, and every
  ``SOCIAL_AUTH_ION_*`` name it sets must be a setting ion-oauth or social-auth reads.

The quickstart's blocks are also pasted into a real project and run by
``tests/e2e/test_quickstart.py``.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils.module_loading import import_string
from sybil import Example, Sybil
from sybil.parsers.myst import CodeBlockParser

from ion_oauth.conf import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOTTED = re.compile(r"(ion_oauth|social_core|social_django|django)(\.\w+)+")
# Read by social-auth (``KEY``, ``SECRET``, ``SCOPE``) or by the OpenID Connect backend.
OTHER_SETTINGS = {"KEY", "SECRET", "SCOPE", "PIPELINE"}
OIDC_SETTINGS = {
    "KEY",
    "SECRET",
    "SCOPE",
    "BASE_URL",
    "TIMEOUT",
    "USE_PKCE",
    "STATE_LIFETIME",
    "GROUP_MAP",
    "SYSADMIN_IS_SUPERUSER",
    "POST_LOGOUT_REDIRECT_URI",
    "PIPELINE",
}
# What ``django-admin startproject`` puts in settings.py, as far as the fragments extend it.
STARTPROJECT = {
    "INSTALLED_APPS": [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
    ],
    "MIDDLEWARE": [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    "urlpatterns": [],
}


def is_settings_fragment(tree: ast.Module) -> bool:
    def assigns_settings(node: ast.stmt) -> bool:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign)
            else []
        )
        return bool(targets) and all(
            isinstance(t, ast.Name) and (t.id.isupper() or t.id == "urlpatterns") for t in targets
        )

    return all(
        isinstance(node, (ast.Import, ast.ImportFrom)) or assigns_settings(node)
        for node in tree.body
    )


def check_imports(tree: ast.Module) -> dict[str, Any]:
    imported: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported[alias.asname or alias.name] = importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{node.module} has no {alias.name}"
                imported[alias.asname or alias.name] = getattr(module, alias.name)
    return imported


def check_dotted_paths(tree: ast.Module) -> list[str]:
    paths = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and DOTTED.fullmatch(node.value)
        ):
            try:
                importlib.import_module(node.value)
            except ImportError:
                import_string(node.value)  # raises ImportError naming what is missing
            paths.append(node.value)
    return paths


def check_attributes(tree: ast.Module, imported: dict[str, Any]) -> list[str]:
    """``Cls.attr`` for an ion-oauth class, and ``obj.attr`` for ``obj = Cls...(...)``."""
    classes = {
        name: value
        for name, value in imported.items()
        if isinstance(value, type) and value.__module__.startswith("ion_oauth")
    }
    instances: dict[str, type] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            base = func.value if isinstance(func, ast.Attribute) else func
            if isinstance(base, ast.Name) and base.id in classes:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        instances[target.id] = classes[base.id]
    checked = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner = classes.get(node.value.id) or instances.get(node.value.id)
            if owner is not None:
                assert hasattr(owner, node.attr), f"{owner.__name__} has no {node.attr!r}"
                checked.append(f"{owner.__name__}.{node.attr}")
    return checked


def check_settings(source: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name in re.findall(r"os\.environ\[\"(\w+)\"\]", source):
        monkeypatch.setenv(name, f"value-of-{name}")
    namespace: dict[str, Any] = {key: list(value) for key, value in STARTPROJECT.items()}
    exec(compile(source, "<settings fragment>", "exec"), namespace)  # noqa: S102 - the docs' own text
    for name in namespace:
        if name.startswith("SOCIAL_AUTH_ION_OIDC_"):
            assert name.removeprefix("SOCIAL_AUTH_ION_OIDC_") in OIDC_SETTINGS, name
        elif name.startswith("SOCIAL_AUTH_ION_"):
            short = name.removeprefix("SOCIAL_AUTH_ION_")
            assert short in DEFAULTS or short in OTHER_SETTINGS, name
    return namespace


def evaluate(example: Example) -> None:
    source = example.parsed
    tree = ast.parse(source, f"{example.path}:{example.line}")
    imported = check_imports(tree)
    check_dotted_paths(tree)
    check_attributes(tree, imported)
    if is_settings_fragment(tree):
        example.namespace["settings"] = check_settings(source, example.namespace["monkeypatch"])


SYBIL = Sybil(parsers=[CodeBlockParser(language="python", evaluator=evaluate)])
EXAMPLES = [
    pytest.param(example, id=f"{path.relative_to(ROOT)}:{example.line}")
    for path in DOCUMENTS
    for example in SYBIL.parse(path)
]


def test_the_readme_and_the_docs_have_python_examples() -> None:
    files = {param.id.split(":")[0] for param in EXAMPLES}  # type: ignore[union-attr]
    assert "README.md" in files
    assert len(EXAMPLES) >= 10, [param.id for param in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES)
def test_python_example(example: Example, monkeypatch: pytest.MonkeyPatch) -> None:
    example.namespace["monkeypatch"] = monkeypatch
    example.evaluate()


def test_a_settings_fragment_naming_an_unknown_setting_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(AssertionError, match="SOCIAL_AUTH_ION_TIMEOUTS"):
        check_settings("SOCIAL_AUTH_ION_TIMEOUTS = 5\n", monkeypatch)


def test_a_renamed_pipeline_step_or_method_fails() -> None:
    with pytest.raises(ImportError):
        check_dotted_paths(ast.parse('P = ["ion_oauth.pipeline.sync_everything"]'))
    tree = ast.parse(
        "from ion_oauth.api import IonClient\nclient = IonClient.for_user(u)\nclient.profiles()\n"
    )
    with pytest.raises(AssertionError, match="profiles"):
        check_attributes(tree, check_imports(tree))


def test_a_quickstart_settings_block_extends_startproject_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = check_settings(
        'INSTALLED_APPS += ["social_django", "ion_oauth"]\nSOCIAL_AUTH_ION_TIMEOUT = 5.0\n',
        monkeypatch,
    )
    assert settings["INSTALLED_APPS"][-2:] == ["social_django", "ion_oauth"]
    assert "django.contrib.admin" in settings["INSTALLED_APPS"]


LINK = re.compile(r"\]\(([^)\s]+)\)")


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and MyST's ``myst_heading_anchors``) gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_the_readmes_links_to_files_and_headings_resolve() -> None:
    """The README is read on GitHub, outside the docs build that checks the docs' links."""
    links = [
        link
        for link in LINK.findall((ROOT / "README.md").read_text())
        if not link.startswith(("http://", "https://", "mailto:"))
    ]
    assert "docs/index.md" in links
    for link in links:
        path, _, anchor = link.partition("#")
        target = ROOT / path if path else ROOT / "README.md"
        assert target.is_file(), link
        if anchor:
            headings = re.findall(r"(?m)^#+ (.+)$", target.read_text())
            assert anchor in {github_anchor(h) for h in headings}, link


def message_templates() -> list[re.Pattern[str]]:
    """Every string and f-string in the package, as a pattern (``{...}`` parts match anything)."""
    import ion_oauth

    templates = []
    for path in Path(ion_oauth.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                templates.append(re.compile(re.escape(node.value)))
            elif isinstance(node, ast.JoinedStr):
                literal = "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
                if len(literal) < 20:
                    continue  # ``f"{reason} {hint}"`` would match any message at all
                pattern = "".join(
                    re.escape(str(value.value)) if isinstance(value, ast.Constant) else ".+?"
                    for value in node.values
                )
                templates.append(re.compile(pattern))
    return templates


def test_every_message_on_the_errors_page_is_one_the_package_can_show() -> None:
    """The table of failed-login messages is written by hand; each must match the code's text."""
    table = (ROOT / "docs" / "errors.md").read_text().split("| What happened | The message |")[1]
    messages = [
        row.rsplit(" | ", 1)[1].rstrip(" |") for row in table.split("\n\n")[0].splitlines()[2:]
    ]
    assert len(messages) >= 15, messages
    templates = message_templates()
    unknown = [m for m in messages if not any(t.fullmatch(m) for t in templates)]
    assert not unknown, unknown
    assert not any(t.fullmatch("Ion did not answer at all. Please try again.") for t in templates)
