"""Evidence an app above disputes can offer for a dispute's files (the problems app: a problem
report's messages and photos on the same order).

Disputes sits below those apps (docs/architecture.md, "Layout"), so it never imports them: each
registers an `EvidenceSource` from its ready(). The dispute's page in admin lists what each source
offers for the dispute, with a link to where it comes from, and attaching one makes its file and
sends it like an uploaded one (disputes.files.dispute_evidence_source_attach: same checks, same
limits, same storage).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class EvidenceSource:
    key: str
    # The EvidenceFileKind the file is attached as.
    kind: str
    # dispute -> what it would attach, in words ("" when it has nothing for this dispute).
    offer: Callable[..., str]
    # dispute -> (file name, PDF/JPEG/PNG bytes).
    build: Callable[..., tuple[str, bytes]]
    # dispute -> (words, admin URL) of where it comes from, or None.
    link: Callable[..., tuple[str, str] | None] = lambda dispute: None


_SOURCES: dict[str, EvidenceSource] = {}


def evidence_source_register(source: EvidenceSource) -> None:
    _SOURCES[source.key] = source


def evidence_sources() -> list[EvidenceSource]:
    return list(_SOURCES.values())


def evidence_source(key: str) -> EvidenceSource | None:
    return _SOURCES.get(key)
