"""`fast_frozen_init`: the cheaper __init__ keeps the dataclass contract (signature, defaults,
frozenness, equality, pickling) for every class that uses it."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from compliance.analyzer.hits import Hit
from compliance.fastinit import fast_frozen_init, frozen_builder
from compliance.findings import Finding
from compliance.analyzer.lint import LintReport


@pytest.mark.parametrize("cls", [Hit, Finding, LintReport])
def test_signature_is_the_fields_in_order_with_their_defaults(cls: type) -> None:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = dataclasses.fields(cls)
    assert [p.name for p in params] == [f.name for f in fields]
    for param, fld in zip(params, fields, strict=True):
        if fld.default is not dataclasses.MISSING:
            assert param.default == fld.default, fld.name
        elif fld.default_factory is dataclasses.MISSING:
            assert param.default is inspect.Parameter.empty, fld.name


def test_instances_behave_as_before() -> None:
    finding = Finding("r", "JD-SMS-13", "ad_law", "error", "m", "body", 1, 3, "x")
    assert finding == Finding(rule="r", ref="JD-SMS-13", category="ad_law", severity="error", message="m",
                              field="body", start=1, end=3, fix="x")
    assert finding.explanation == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.rule = "other"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(finding)) == finding
    assert dataclasses.replace(finding, start=2).start == 2
    with pytest.raises(TypeError):
        Finding("r")  # type: ignore[call-arg]


def test_default_factory_gives_a_fresh_value_each_time() -> None:
    first, second = LintReport("jd.sms", [], {}), LintReport("jd.sms", [], {})
    assert first.offsets == {} and first.offsets is not second.offsets


def test_refuses_classes_it_cannot_serve() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    with pytest.raises(TypeError, match="slots"):
        fast_frozen_init(NoSlots)
    with pytest.raises(TypeError, match="slots"):
        frozen_builder(NoSlots)

    @dataclasses.dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="__post_init__"):
        fast_frozen_init(PostInit)
    with pytest.raises(TypeError, match="__post_init__"):
        frozen_builder(PostInit)


HIT_ARGS = (3, 5, "最低", "ad_law", "ad_law", "absolute", "error", "绝对化用语", None, "最低")
FINDING_ARGS = ("r", "JD-SMS-13", "ad_law", "error", "m", "body", 1, 3, "x")


@pytest.mark.parametrize(("cls", "args"), [(Hit, HIT_ARGS), (Finding, FINDING_ARGS)])
def test_builder_makes_the_same_frozen_instances_as_the_class(cls: type, args: tuple) -> None:
    build = frozen_builder(cls)
    built, made = build(*args), cls(*args)
    assert type(built) is cls and built == made and hash(built) == hash(made) and repr(built) == repr(made)
    names = [f.name for f in dataclasses.fields(cls)]
    assert build(**dict(zip(names, args))) == made  # keywords, as the class takes them
    assert build(*args[:5]) == cls(*args[:5])       # the defaults of the class
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, names[0], None)
    assert pickle.loads(pickle.dumps(built)) == made
    assert dataclasses.replace(built, **{names[0]: args[0]}) == made
    with pytest.raises(TypeError):
        build(*args[:2])


def test_builder_gives_a_fresh_default_factory_value_each_time() -> None:
    build = frozen_builder(LintReport)
    first, second = build("jd.sms", [], {}), build("jd.sms", [], {})
    assert first.offsets == {} and first.offsets is not second.offsets and first == LintReport("jd.sms", [], {})
