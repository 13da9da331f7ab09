"""The README's architecture map names every module, and only modules that exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("peernudge", "service", "workers")


def architecture_map() -> str:
    """The first code block of the README's Architecture section: the module tree."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```\n", 2)[1]


def mapped_paths() -> set[str]:
    """Paths the map names: a group (``service/web/``), then its modules and subpackages
    two spaces in, and a subpackage's modules four spaces in."""
    paths, group, package = set(), "", ""
    for line in architecture_map().splitlines():
        match = re.match(r"^( *)(\S+)", line)
        if match is None:
            continue
        indent, name = len(match.group(1)), match.group(2)
        if indent == 0:
            group = name
            paths.add(group)
        elif indent == 2:
            paths.add(group + name)
            package = group + name
        elif indent == 4:
            paths.add(package + name)
    return paths


def modules() -> set[str]:
    """Every module of the three packages (a package counts as its folder)."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            if path.name == "__init__.py":
                if len(relative.parts) > 2:  # a subpackage: service/understanding/
                    found.add(f"{relative.parent.as_posix()}/")
                continue
            found.add(relative.as_posix())
    return found


def test_the_architecture_map_names_every_module():
    missing = sorted(modules() - mapped_paths())
    assert not missing, f"README's Architecture section does not name {missing}"


def test_every_module_the_map_names_exists():
    stale = sorted(
        path
        for path in mapped_paths()
        if path.startswith(tuple(f"{p}/" for p in PACKAGES)) and not (ROOT / path).exists()
    )
    assert not stale, f"README's Architecture section names modules that are gone: {stale}"
