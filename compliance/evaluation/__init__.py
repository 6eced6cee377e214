"""The labelled evaluation set: how accuracy on real copy is measured (docs/accuracy.md).

Corpus lines of ``../shared/corpora`` are drawn reproducibly (`draw`), turned into the text
that is labelled and linted (`render`), labelled by hand as spans per category (`labels`,
written through the labeller's worksheet, `worksheet`), and every system under test — the
linter and the baselines a user would write instead (`systems`) — is scored span by span and
message by message (`scoring`). Nothing here copies corpus text into the repository: the
committed files hold file names, line numbers, offsets and hashes only.

For tests and benchmarks (``benchmarks/accuracy.py``, ``benchmarks/accuracy_label.py``);
nothing in the linter imports this package.
"""

from __future__ import annotations

#: The categories labelled and scored (docs/accuracy.md, "Categories").
CATEGORIES: tuple[str, ...] = ("ad_law", "contact", "inducement", "impersonation")

__all__ = ["CATEGORIES"]
