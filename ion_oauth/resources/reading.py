"""Reading Ion's JSON into the frozen dataclasses of :mod:`ion_oauth.resources`.

A resource declares only its fields; each field's type says how Ion's value is read:

- ``int``, ``str``, ``bool``: exactly that JSON type (``true`` is not an id);
- ``datetime.date``: ``"2026-12-01"``; ``datetime.time``: Ion's ``"8:40"``;
  ``datetime.datetime``: ``"2026-12-02T02:22:28.402593Z"``, which must carry a time zone;
- another :class:`Resource`: a JSON object, read the same way;
- ``tuple[X, ...]``: a JSON list of ``X`` (or, with ``at(..., keyed=True)``, the values of
  a JSON object, as Ion keys some lists by id);
- ``X | None``: absent or ``null`` is None.

The JSON key is the field's name unless ``field(metadata=at("path"))`` names another:
``"roster.count"`` is ``count`` inside the object at ``roster``; ``""`` is the object
itself. A field named ``raw`` keeps the whole object. Anything else is an
:class:`~ion_oauth.exceptions.IonResponseError` saying where, and what was there.
"""

from __future__ import annotations

import dataclasses
import datetime
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ion_oauth.exceptions import IonResponseError, with_article

T = TypeVar("T")
R = TypeVar("R", bound="Resource")

_KEY = "ion_oauth.at"


def at(path: str, *, keyed: bool = False, order_by: str | None = None) -> dict[str, Any]:
    """Field metadata: read the field from ``path`` in Ion's JSON (see the module
    docstring); ``keyed``: a tuple from the values of a JSON object; ``order_by``: sort
    the tuple by this attribute of its items."""
    return {_KEY: (path, keyed, order_by)}


class Resource:
    """Base of the resources: ``from_json`` builds one from Ion's JSON.

    ``what`` (a class keyword) is what the error messages call it: ``"schedule day"``.
    """

    _what: typing.ClassVar[str]

    def __init_subclass__(cls, *, what: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._what = what

    @classmethod
    def from_json(cls: type[R], data: Any) -> R:
        """The resource in ``data`` (Ion's decoded JSON)."""
        return cls._read(data, cls._what)

    @classmethod
    def _read(cls: type[R], data: Any, what: str) -> R:
        if not isinstance(data, Mapping):
            raise malformed(what, f"expected a JSON object, got {type(data).__name__}")
        values = {name: read(data, what) for name, read in _readers(cls)}
        return cls(**values)


def malformed(what: str, problem: str) -> IonResponseError:
    return IonResponseError(
        None,
        f"Ion sent {with_article(what)} this site could not read ({problem}).",
        code="malformed_response",
        stage="user_info",
    )


def many(build: Callable[[Any], T], items: Any, what: str) -> list[T]:
    """Each item of a JSON list, built with ``build``."""
    if not isinstance(items, list):
        raise malformed(what, f"expected a JSON list, got {type(items).__name__}")
    return [build(item) for item in items]


Reader = Callable[[Mapping[str, Any], str], Any]
#: How one value is read: (value, key, what the value is in) -> the field's value.
Convert = Callable[[Any, str, str], Any]


def _readers(cls: type[Resource]) -> tuple[tuple[str, Reader], ...]:
    """For each field of ``cls``: its name and how to read it from a JSON object."""
    if cls in _READERS:
        return _READERS[cls]
    hints = typing.get_type_hints(cls)
    readers: list[tuple[str, Reader]] = []
    for spec in dataclasses.fields(cls):  # type: ignore[arg-type]
        if spec.name == "raw":
            readers.append((spec.name, _whole))
            continue
        path, keyed, order_by = spec.metadata.get(_KEY, (spec.name, False, None))
        readers.append((spec.name, _field(path, _converter(hints[spec.name], keyed, order_by))))
    _READERS[cls] = tuple(readers)
    return _READERS[cls]


_READERS: dict[type[Resource], tuple[tuple[str, Reader], ...]] = {}


def _whole(data: Mapping[str, Any], what: str) -> dict[str, Any]:
    return dict(data)


def _field(path: str, convert: Convert) -> Reader:
    *parents, key = path.split(".")

    def read(data: Mapping[str, Any], what: str) -> Any:
        for parent in parents:
            data = _check(data.get(parent, _MISSING), parent, what, Mapping)
            what = f"{what}.{parent}"
        return convert(data.get(key, _MISSING) if key else data, key, what)

    return read


#: What ``dict.get`` gives for an absent key (None is Ion's ``null``).
_MISSING: Any = object()


def _check(value: Any, key: str, what: str, kind: type) -> Any:
    if value is _MISSING:
        raise malformed(what, f"no {key!r}")
    # bool is an int to Python, but not an id to Ion.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise malformed(what, f"{key!r} is {value!r}")
    return value


class _Problem(ValueError):
    """A parser's own words for what is wrong with a value."""


def _converter(hint: Any, keyed: bool = False, order_by: str | None = None) -> Convert:
    """How to read a value of the type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        (inner,) = (arg for arg in args if arg is not type(None))
        convert = _converter(inner)
        return lambda value, key, what: (
            None if value is None or value is _MISSING else convert(value, key, what)
        )
    if origin is tuple:
        return _items(args[0], keyed, order_by)
    if isinstance(hint, type) and issubclass(hint, Resource):
        resource = hint
        return lambda value, key, what: (
            resource._read(_check(value, key, what, Mapping), f"{what}.{key}")
            if key
            else resource._read(value, what)
        )
    if hint in _PARSERS:
        parse, noun = _PARSERS[hint]

        def convert(value: Any, key: str, what: str) -> Any:
            text = _check(value, key, what, str)
            try:
                return parse(text)
            except _Problem as problem:
                raise malformed(what, f"{key!r} {problem}: {text!r}") from None
            except ValueError:
                raise malformed(what, f"{key!r} is not {noun}: {text!r}") from None

        return convert
    return lambda value, key, what: _check(value, key, what, hint)


def _items(kind: Any, keyed: bool, order_by: str | None) -> Convert:
    """A tuple of ``kind`` from a JSON list (or the values of an object when ``keyed``)."""

    def read(value: Any, key: str, what: str) -> tuple[Any, ...]:
        value = _check(value, key, what, dict if keyed else list)
        named = [(repr(name), item) for name, item in value.items()] if keyed else enumerate(value)
        if isinstance(kind, type) and issubclass(kind, Resource):
            items = [kind._read(item, f"{what}.{key}[{index}]") for index, item in named]
        else:
            items = [item for _, item in named]
            if not all(isinstance(i, kind) and not isinstance(i, bool) for i in items):
                noun = "strings" if kind is str else "ids"
                raise malformed(what, f"{key!r} is not a list of {noun}")
        if order_by is not None:
            items.sort(key=lambda item: getattr(item, order_by))
        return tuple(items)

    return read


def _time(text: str) -> datetime.time:
    """Ion's ``"8:40"``: 24-hour, the hour not zero-padded."""
    hours, _, minutes = text.partition(":")
    return datetime.time(int(hours), int(minutes))


def _moment(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise _Problem("has no time zone")
    return moment


_PARSERS: dict[Any, tuple[Callable[[str], Any], str]] = {
    datetime.date: (datetime.date.fromisoformat, "a date"),
    datetime.time: (_time, "a time"),
    datetime.datetime: (_moment, "a timestamp"),
}
