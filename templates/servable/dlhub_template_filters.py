"""Jinja filters for this template: quote user text so it stays one valid YAML scalar."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension


def yaml_str(value: Any) -> str:
    """A double-quoted YAML scalar (JSON string syntax is valid YAML), keeping non-ASCII text readable."""
    return json.dumps(str(value), ensure_ascii=False)


class YamlFilters(Extension):
    """Registers `yaml_str`; cookiecutter loads it through `_extensions` in cookiecutter.json."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["yaml_str"] = yaml_str
