"""A cheaper ``__init__`` for the frozen, slotted dataclasses built on the hot path.

The ``__init__`` that `dataclasses` generates for a frozen class assigns every field through
``object.__setattr__`` (the class's own ``__setattr__`` refuses). Calling each slot
descriptor's ``__set__`` directly is the same assignment at about half the cost, which
matters for `Hit` and `Finding`: every lint builds several. The class stays frozen for
everybody else, and the replacement keeps the fields' names, order and defaults (so
``inspect.signature``, keyword calls and ``dataclasses.replace`` behave as before).

`frozen_builder` goes further for the hot path (the matcher's hits, the lint's findings): a
function that builds the same instances at half that cost again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = object()


def fast_frozen_init(cls: type[T]) -> type[T]:
    """Class decorator: give a frozen ``slots=True`` dataclass a descriptor-based ``__init__``.

    Fields with a ``default_factory`` are supported; ``__post_init__`` and ``InitVar`` are not
    (a TypeError says so).
    """
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls.__name__}: fast_frozen_init needs a dataclass with slots=True")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: fast_frozen_init does not run __post_init__")
    namespace: dict[str, Any] = {"_MISSING": _MISSING}
    params: list[str] = []
    body: list[str] = []
    for index, fld in enumerate(dataclasses.fields(cls)):
        if not fld.init:
            raise TypeError(f"{cls.__name__}.{fld.name}: init=False fields are not supported")
        setter = f"_set{index}"
        namespace[setter] = getattr(cls, fld.name).__set__
        if fld.default is not dataclasses.MISSING:
            namespace[f"_default{index}"] = fld.default
            params.append(f"{fld.name}=_default{index}")
            body.append(f"    {setter}(self, {fld.name})")
        elif fld.default_factory is not dataclasses.MISSING:
            namespace[f"_factory{index}"] = fld.default_factory
            params.append(f"{fld.name}=_MISSING")
            body.append(f"    {setter}(self, _factory{index}() if {fld.name} is _MISSING else {fld.name})")
        else:
            params.append(fld.name)
            body.append(f"    {setter}(self, {fld.name})")
    source = f"def __init__(self, {', '.join(params)}) -> None:\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(compile(source, f"<fast __init__ of {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[misc]
    return cls


def frozen_builder(cls: type[T]) -> Callable[..., T]:
    """A function that builds instances of a frozen ``slots=True`` dataclass about twice as
    fast as its ``__init__``, even the one of `fast_frozen_init`: for the hot path only.

    A frozen class refuses plain attribute assignment, so its ``__init__`` must call a slot
    descriptor (or ``object.__setattr__``) per field. The builder allocates an instance of a
    private *twin* class with the same slots and no ``__setattr__``, stores the fields by
    plain assignment, then makes the object a ``cls`` (``__class__`` assignment is allowed
    between classes of identical layout). The result is an ordinary, frozen ``cls`` instance.
    Same parameters, order and defaults as the class; ``__post_init__`` is not run (a
    TypeError says so when the class has one).
    """
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls.__name__}: frozen_builder needs a dataclass with slots=True")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: frozen_builder does not run __post_init__")
    twin = type(f"_{cls.__name__}Builder", (), {"__slots__": cls.__slots__})
    namespace: dict[str, Any] = {"_MISSING": _MISSING, "_cls": cls, "_twin": twin, "_new": object.__new__}
    params: list[str] = []
    body = ["    self = _new(_twin)"]
    for index, fld in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type]
        if fld.default is not dataclasses.MISSING:
            namespace[f"_default{index}"] = fld.default
            params.append(f"{fld.name}=_default{index}")
            body.append(f"    self.{fld.name} = {fld.name}")
        elif fld.default_factory is not dataclasses.MISSING:
            namespace[f"_factory{index}"] = fld.default_factory
            params.append(f"{fld.name}=_MISSING")
            body.append(f"    self.{fld.name} = _factory{index}() if {fld.name} is _MISSING else {fld.name}")
        else:
            params.append(fld.name)
            body.append(f"    self.{fld.name} = {fld.name}")
    body += ["    self.__class__ = _cls", "    return self"]
    source = f"def build({', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<builder of {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    build = namespace["build"]
    build.__qualname__ = f"build_{cls.__qualname__}"
    build.__module__ = cls.__module__
    return build  # type: ignore[no-any-return]
