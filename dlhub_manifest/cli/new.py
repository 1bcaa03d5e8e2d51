"""`dlhub-manifest new`: start a servable project from the template, prompting for what was not given."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from dlhub_manifest.ci.scaffold import (
    ProjectSpec,
    as_family_given,
    create_project,
    default_author,
    default_name,
    default_title,
    name_problem,
    next_steps,
    servable_types,
)


@click.command("new")
@click.option("--type", "servable_type", type=click.Choice(servable_types()),
              help="Servable type (prompted; default sklearn).")
@click.option("--name", help="Servable name: lower-case letters, digits, '-', '_', '.' (default: the folder's name).")
@click.option("--title", help="Human-readable title (default: from the name).")
@click.option("--author", help='Creator as "Family, Given" (default: your git user.name).')
@click.option("--no-input", is_flag=True, help="Do not prompt: use the defaults for what is not given (for CI).")
@click.option("-o", "--output-dir", type=click.Path(path_type=Path),
              help="Folder of the new project (default: ./NAME). It must not exist or be empty.")
@click.option("--force", is_flag=True, help="Write into an existing non-empty folder, replacing same-named files.")
def new_command(servable_type: str | None, name: str | None, title: str | None, author: str | None,
                no_input: bool, output_dir: Path | None, force: bool) -> int:
    """Create a servable project: dlhub.yaml, model code, tests, README, pre-commit and a GitHub publish workflow.

    Example: dlhub-manifest new --type sklearn --no-input -o demo
    """
    ask = not no_input
    servable_type = servable_type or _ask(ask, "Servable type", servable_types()[0],
                                          click.Choice(servable_types()))
    name = name or _ask(ask, "Name", default_name(servable_type, output_dir), problem=name_problem)
    title = title or _ask(ask, "Title", default_title(name))
    author = author or _ask(ask, 'Author ("Family, Given")', default_author())
    spec = ProjectSpec(servable_type, name, title, as_family_given(author) or author)
    project = create_project(spec, output_dir or Path(name), force=force)
    click.echo(f"Created the {servable_type} servable {name!r} in {_shown(project)}")
    click.echo("Next steps:")
    for step in [f"cd {_shown(project)}", *next_steps(servable_type)]:
        click.echo(f"  {step}")
    return 0


def _ask(interactive: bool, label: str, default: str, choice: click.Choice[str] | None = None,
         problem: Callable[[str], str | None] | None = None) -> str:
    """Prompt for one value (re-asking while `problem` objects), or take the default without a terminal."""
    if not interactive:
        return default
    if problem is not None:
        return str(click.prompt(label, default=default, value_proc=_checked(problem)))
    return str(click.prompt(label, default=default, type=choice))


def _checked(problem: Callable[[str], str | None]) -> Callable[[str], str]:
    """A prompt type that asks again while `problem` finds one."""

    def convert(value: str) -> str:
        message = problem(value)
        if message:
            raise click.BadParameter(message)
        return value

    return convert


def _shown(project: Path) -> str:
    """The project path relative to the working directory when it is below it (what users typed)."""
    try:
        return str(project.relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(project)
