"""Every reference of the platform-rule catalogue is implemented by a built-in rule."""

from __future__ import annotations

import re
from pathlib import Path

from compliance.engine import Engine

CATALOGUE = Path(__file__).resolve().parents[2] / "shared" / "spec" / "platform-rules.md"
# The catalogue's refs, kept here too so the check runs without ../shared.
REFS = (
    [f"JD-SMS-{i:02d}" for i in range(1, 28)] + [f"JD-MB-{i:02d}" for i in range(1, 12)]
    + [f"WX-{i:02d}" for i in range(1, 12)] + [f"TB-{i:02d}" for i in range(1, 9)]
    + [f"GT-{i:02d}" for i in range(1, 6)] + [f"CN-{i:02d}" for i in range(1, 6)]
)
KIND_OF = {"JD-SMS-01": "eligibility", "JD-SMS-18": "frequency", "JD-SMS-27": "schedule", "JD-MB-09": "schedule",
           "JD-MB-10": "audience", "TB-06": "audience", "WX-03": "frequency", "CN-01": "copy"}


def test_every_catalogue_ref_has_a_rule(engine: Engine) -> None:
    refs = set(REFS)
    if CATALOGUE.exists():  # the spec itself, when the shared folder is beside the repo
        refs |= set(re.findall(r"^\| ((?:JD-SMS|JD-MB|WX|TB|GT|CN)-\d\d) \|", CATALOGUE.read_text("utf-8"), re.M))
    implemented: dict[str, set[str]] = {}
    for info in engine.rules():
        for ref in info.refs:
            implemented.setdefault(ref, set()).add(info.kind)
    assert sorted(refs - set(implemented)) == []
    for ref, kind in KIND_OF.items():
        assert kind in implemented[ref], (ref, implemented[ref])


def test_shared_rules_list_every_channel(engine: Engine) -> None:
    rows = [r for r in engine.rules() if r.id == "wx-verified-service-account"]
    assert len(rows) == 1
    assert set(rows[0].channels) >= {"wechat.news", "wechat.template", "wechat.qrcode", "wechat.poster"}
    ad_law = {tuple(r.refs): r.channels for r in engine.rules() if r.id == "copy-ad-law"}
    assert ad_law[("JD-SMS-13", "CN-01", "CN-04", "CN-05")] == ("jd.sms",)
