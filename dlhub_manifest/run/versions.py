"""Without `--isolated` a servable runs in the current environment: say where it differs from the pins."""

from __future__ import annotations

from typing import Any


def environment_warnings(document: dict[str, Any]) -> list[str]:
    """One line per declared package that is missing here or whose installed version does not match."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    out = []
    pins: dict[str, str] = document["dlhub"].get("dependencies", {}).get("python", {})
    for name, spec in sorted(pins.items()):
        wanted = str(spec).strip()
        dist = name.split("[")[0]
        try:
            have = version(dist)
        except PackageNotFoundError:
            out.append(f"{dist} is not installed here (the servable declares {dist} {wanted}); use --isolated "
                       "or install it")
            continue
        try:
            specifier = SpecifierSet(f"=={wanted}" if wanted[:1].isdigit() else ("" if wanted == "*" else wanted))
        except InvalidSpecifier:
            continue
        if not specifier.contains(have.split("+", 1)[0], prereleases=True):
            out.append(f"the servable declares {dist} {wanted} but {have} is installed here; results may differ "
                       "(--isolated runs it with what it declares)")
    return out
