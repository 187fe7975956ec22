"""Critics and attackers are typed configs with behaviour (pydantic models); a YAML spec names one and sets its
options: `critic: weak` or `critic: {name: lm, model: qwen-1.5b}`. A bad option is one clear error line."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from superalign.errors import SuperalignError
from superalign.registry import Registry

T = TypeVar("T", bound=BaseModel)


class Component(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    name: str


def build(registry: Registry[type[T]], spec: str | dict[str, Any]) -> T:
    options = {"name": spec} if isinstance(spec, str) else dict(spec)
    if "name" not in options:
        raise SuperalignError(f"a {registry.kind} spec needs a name: {spec!r} (choose from {', '.join(registry.names())})")
    cls = registry.get(str(options["name"]))
    try:
        return cls(**options)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SuperalignError(f"{registry.kind} {options['name']!r}: option {'.'.join(map(str, first['loc']))}: "
                              f"{first['msg']} (options: {', '.join(f for f in cls.model_fields if f != 'name')})") from exc


def spec_name(spec: str | dict[str, Any]) -> str:
    """The component a spec names: `weak` for `weak` and for `{name: weak, ...}`."""
    return spec if isinstance(spec, str) else str(spec.get("name"))


def spec_of(component: Component) -> dict[str, Any]:
    """The component's spec as recorded (every option, defaults included)."""
    return component.model_dump(mode="json")
