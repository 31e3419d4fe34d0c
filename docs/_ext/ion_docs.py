"""Sphinx directives that generate reference tables from the package, so they cannot drift.

``{ion-settings}``
    One row per entry of ``ion_oauth.conf.DEFAULTS``: the setting's name, its type (the
    return annotation of its ``IonSettings`` property, else the default's type) and its
    default, written from the value itself. The directive's content gives each setting's
    meaning as ``NAME: text`` (continuation lines indented); a setting without a meaning,
    or a meaning for a setting that does not exist, fails the build.

``{ion-checks}``
    One row per system check id (``ion_oauth.E001``...), found by reading the package's
    source (``ast``) for the ``Error(...)`` / ``Warning(...)`` calls that carry it, with
    their message and hint. An id passed to a helper (``invalid_id="ion_oauth.E005"``) is
    followed into the helper. Each id is one row, however many calls produce it.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

CHECK_ID = re.compile(r"ion_oauth\.[CEWID]\d{3}")
LEVELS = {"C": "Critical", "E": "Error", "W": "Warning", "I": "Info", "D": "Debug"}


# -- values ---------------------------------------------------------------------------


def python_literal(value: Any) -> str:
    """``value`` as a reader would write it in ``settings.py`` (strings double-quoted)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        items = ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(python_literal(v) for v in value)
        return (
            f"[{inner}]"
            if isinstance(value, list)
            else f"({inner}{',' if len(value) == 1 else ''})"
        )
    return repr(value)


def cell(*children: nodes.Node) -> nodes.entry:
    entry = nodes.entry()
    entry += nodes.paragraph("", "", *children)
    return entry


def table(headers: list[str], rows: list[list[nodes.entry]], widths: list[int]) -> nodes.table:
    group = nodes.tgroup(cols=len(headers))
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    head += nodes.row("", *(cell(nodes.Text(h)) for h in headers))
    group += head
    body = nodes.tbody()
    for entries in rows:
        body += nodes.row("", *entries)
    group += body
    result = nodes.table()
    result += group
    return result


# -- settings -------------------------------------------------------------------------


class IonSettingsDirective(SphinxDirective):
    has_content = True

    def meanings(self) -> dict[str, list[str]]:
        meanings: dict[str, list[str]] = {}
        name = None
        for line in self.content:
            match = re.match(r"^([A-Z_]+):\s*(.*)$", line)
            if match:
                name = match.group(1)
                if name in meanings:
                    raise self.error(f"{name} is described twice")
                meanings[name] = [match.group(2)]
            elif line.strip():
                if name is None:
                    raise self.error(f"text before the first NAME: {line!r}")
                meanings[name].append(line.strip())
        return meanings

    def run(self) -> list[nodes.Node]:
        from ion_oauth.conf import DEFAULTS, PREFIX, IonSettings

        meanings = self.meanings()
        missing = sorted(set(DEFAULTS) - set(meanings))
        unknown = sorted(set(meanings) - set(DEFAULTS))
        if missing or unknown:
            raise self.error(
                f"ion-settings: no meaning for {missing} in the docs; "
                f"meaning for settings conf.DEFAULTS does not have: {unknown}"
            )
        rows = []
        for name, default in DEFAULTS.items():
            prop = getattr(IonSettings, name, None)
            annotation = getattr(getattr(prop, "fget", None), "__annotations__", {}).get("return")
            kind = str(annotation) if annotation else type(default).__name__
            meaning = nodes.entry()
            text = " ".join(meanings[name])
            self.state.nested_parse(
                self.content.__class__([text], source=self.get_source_info()[0]),
                self.content_offset,
                meaning,
            )
            rows.append(
                [
                    cell(nodes.literal(text=PREFIX + name)),
                    cell(nodes.Text(kind)),
                    cell(nodes.literal(text=python_literal(default))),
                    meaning,
                ]
            )
        return [table(["Setting", "Type", "Default", "Meaning"], rows, [30, 15, 25, 50])]


# -- system checks ------------------------------------------------------------------


@dataclass
class Check:
    id: str
    messages: list[tuple[str, str]] = field(default_factory=list)  # (msg, hint)


def render(node: ast.expr | None, known: dict[str, str]) -> str:
    """A message expression as text: f-string parts as ``<name>`` or a known argument."""
    if node is None:
        return ""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                expr = value.value
                if isinstance(expr, ast.Name) and expr.id in known:
                    parts.append(known[expr.id])
                elif isinstance(expr, (ast.Name, ast.Attribute)):
                    parts.append(f"<{ast.unparse(expr)}>")
                else:
                    parts.append("…")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return render(node.left, known) + render(node.right, known)
    return "…"


def check_calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"Critical", "Error", "Warning", "Info", "Debug"}:
                yield node


def message_of(call: ast.Call, known: dict[str, str]) -> tuple[str, str]:
    msg = call.args[0] if call.args else None
    hint = None
    for keyword in call.keywords:
        if keyword.arg == "msg":
            msg = keyword.value
        elif keyword.arg == "hint":
            hint = keyword.value
    return render(msg, known), render(hint, known)


def module_constants(tree: ast.Module) -> dict[str, str]:
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def scan_checks(package: Path) -> dict[str, Check]:
    checks: dict[str, Check] = {}

    def add(check_id: str, message: tuple[str, str]) -> None:
        entry = checks.setdefault(check_id, Check(check_id))
        if message not in entry.messages:
            entry.messages.append(message)

    trees = {path: ast.parse(path.read_text(), str(path)) for path in sorted(package.rglob("*.py"))}
    # Each module's string constants (``OAUTH2_BACKEND = "ion_oauth.oauth.IonOauth2"``), its
    # own and those it imports from the package, to fill in the messages that name them.
    own = {path: module_constants(tree) for path, tree in trees.items()}
    scope: dict[Path, dict[str, str]] = {}
    for path, tree in trees.items():
        scope[path] = dict(own[path])
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ion_oauth."):
                parts = str(node.module).split(".")[1:]
                source = package.joinpath(*parts).with_suffix(".py")
                if not source.exists():
                    source = package.joinpath(*parts, "__init__.py")
                for alias in node.names:
                    if alias.name in own.get(source, {}):
                        scope[path][alias.asname or alias.name] = own[source][alias.name]

    for path, tree in trees.items():
        functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        for call in check_calls(tree):
            for keyword in call.keywords:
                value = keyword.value
                if keyword.arg == "id" and isinstance(value, ast.Constant):
                    if not CHECK_ID.fullmatch(str(value.value)):
                        raise ExtensionError(
                            f"{path}: check id {value.value!r} is not ion_oauth.X000"
                        )
                    add(str(value.value), message_of(call, scope[path]))
        # Ids handed to a helper: ``_helper(..., invalid_id="ion_oauth.E005")``.
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            helper = functions.get(node.func.id)
            if helper is None:
                continue
            params = [a.arg for a in helper.args.args + helper.args.kwonlyargs]
            known = dict(scope[path])
            known |= {
                param: str(arg.value)
                for param, arg in zip(params, node.args, strict=False)
                if isinstance(arg, ast.Constant)
            }
            known.update(
                {
                    k.arg: str(k.value.value)
                    for k in node.keywords
                    if k.arg and isinstance(k.value, ast.Constant)
                }
            )
            for inner in check_calls(helper):
                for keyword in inner.keywords:
                    if keyword.arg == "id" and isinstance(keyword.value, ast.Name):
                        check_id = known.get(keyword.value.id, "")
                        if CHECK_ID.fullmatch(check_id):
                            add(check_id, message_of(inner, known))
    return checks


def all_check_ids(package: Path) -> set[str]:
    """Every string in the package's code that is exactly a check id, however it is used."""
    return {
        node.value
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CHECK_ID.fullmatch(node.value)
    }


def check_sort_key(check_id: str) -> tuple[int, str]:
    return (0 if check_id.split(".")[1][0] in "CE" else 1, check_id)


class IonChecksDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        import ion_oauth

        package = Path(ion_oauth.__file__).parent
        checks = scan_checks(package)
        if not checks:
            raise self.error("ion-checks: no check ids found in the package")
        unread = sorted(all_check_ids(package) - set(checks))
        if unread:
            raise self.error(
                f"ion-checks: the package names check ids whose message was not found: {unread}"
            )
        rows = []
        for check_id in sorted(checks, key=check_sort_key):
            messages = checks[check_id].messages
            msg_cell = nodes.entry()
            hint_cell = nodes.entry()
            for msg, hint in messages:
                msg_cell += nodes.paragraph(text=msg)
                hint_cell += nodes.paragraph(text=hint or "—")
            id_cell = cell(nodes.literal(text=check_id))
            id_cell["ids"].append(nodes.make_id(check_id))
            level = LEVELS[check_id.split(".")[1][0]]
            rows.append([id_cell, cell(nodes.Text(level)), msg_cell, hint_cell])
        result = table(["Id", "Level", "Message", "Hint"], rows, [15, 10, 45, 40])
        result["ion-checks"] = True
        return [result]


def each_check_id_once(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """On the page with the generated table, every check id appears exactly once."""
    if not any(isinstance(n, nodes.table) and n.get("ion-checks") for n in doctree.findall()):
        return
    counts: dict[str, int] = {}
    for check_id in CHECK_ID.findall(doctree.astext()):
        counts[check_id] = counts.get(check_id, 0) + 1
    repeated = sorted(check_id for check_id, count in counts.items() if count != 1)
    if repeated:
        # A warning names the page; ``-W`` makes it fail the build.
        logger.warning("check ids named more than once: %s", repeated, location=docname)


def type_variables_as_text(
    app: Sphinx, env: Any, node: nodes.Element, contnode: nodes.TextElement
) -> nodes.Node | None:
    """A ``TypeVar`` in a signature (``T``, ``View``) is not a class to link to: plain text.

    Every other unresolved ion-oauth name stays an error under ``-n``.
    """
    target = str(node.get("reftarget", ""))
    if node.get("refdomain") != "py" or not target.startswith("ion_oauth."):
        return None
    module_name, _, name = target.rpartition(".")
    try:
        value = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return None
    return contnode if isinstance(value, TypeVar) else None


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("missing-reference", type_variables_as_text)
    app.add_directive("ion-settings", IonSettingsDirective)
    app.add_directive("ion-checks", IonChecksDirective)
    app.connect("doctree-resolved", each_check_id_once)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
