"""What ``ion_doctor`` found, and how it is shown: one line per finding, or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Level = Literal["ok", "warning", "error"]


@dataclass(frozen=True)
class Finding:
    """One result: ``section`` is a backend's name (``ion``, ``ion-oidc``) or ``site``.

    ``setting`` names what to change when the finding is not ok; ``data`` holds the
    figures (timings in ms, the clock skew in s, the redirect URIs) for ``--json``.
    """

    section: str
    check: str
    level: Level
    message: str
    setting: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def counts(findings: Sequence[Finding]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = sum(1 for f in findings if f.level == "error")
    warnings = sum(1 for f in findings if f.level == "warning")
    return errors, warnings


def summary(findings: Sequence[Finding]) -> str:
    errors, warnings = counts(findings)
    plural = {1: ""}
    return (
        f"{errors} error{plural.get(errors, 's')}, {warnings} warning{plural.get(warnings, 's')}."
    )


def as_text(findings: Sequence[Finding], headings: dict[str, str]) -> str:
    """Findings grouped by section under ``headings[section]``, one line each."""
    lines: list[str] = []
    section = None
    for finding in findings:
        if finding.section != section:
            section = finding.section
            if lines:
                lines.append("")
            lines.append(headings.get(section, section))
        first, *rest = finding.message.splitlines() or [""]
        line = f"  {finding.level:<8}{finding.check:<15}{first}"
        if finding.setting and finding.level != "ok":
            line += f" Change: {finding.setting}."
        lines.append(line)
        lines.extend(f"  {'':<8}{'':<15}{more}" for more in rest)
    lines.append("")
    lines.append(summary(findings))
    return "\n".join(lines)


def as_json(findings: Sequence[Finding], **extra: Any) -> str:
    errors, warnings = counts(findings)
    document = {
        "ok": errors == 0,
        "errors": errors,
        "warnings": warnings,
        **extra,
        "findings": [asdict(f) for f in findings],
    }
    return json.dumps(document, indent=2)
