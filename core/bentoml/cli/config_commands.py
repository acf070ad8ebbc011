"""``bentoml config``: set, get, unset, view, view-effective and reset ``bentoml.cfg`` keys.

As BentoML 0.x: ``bentoml config set yatai_service.url=127.0.0.1:50051``.  A
bad ``KEY=VALUE``, an unknown key or an invalid value is a usage error (exit 2,
one line on stderr); a corrupt file is named with its line (exit 1).
"""
from __future__ import annotations

import configparser
import io
from typing import Dict, List, Tuple

import click

from bentoml import configuration
from bentoml.cli.common import BentoMLGroup, common_options, echo_data
from bentoml.configuration.keys import KEYS, lookup_key
from bentoml.exceptions import InvalidArgument

_EXAMPLE = "e.g. bentoml config set yatai_service.url=127.0.0.1:50051"


def _usage(exc: InvalidArgument) -> click.UsageError:
    return click.UsageError(str(exc))


def _parse_pairs(pairs: Tuple[str, ...]) -> Dict[str, str]:
    parsed: Dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"{pair!r} is not KEY=VALUE ({_EXAMPLE})")
        try:
            name = lookup_key(key).name
        except InvalidArgument as exc:
            raise _usage(exc) from None
        if name in parsed:
            raise click.UsageError(f"{name} is given twice")
        parsed[name] = value
    return parsed


def _note_env_overrides(keys: List[str]) -> None:
    for key in keys:
        var = KEYS[key].set_env_var()
        if var is not None:
            click.echo(f"note: ${var} is set and wins over {configuration.config_file_path()} "
                       f"for {key}", err=True)


@click.group(cls=BentoMLGroup)
@common_options
def config() -> None:
    """Configure bentoml: keys in $BENTOML_HOME/bentoml.cfg (environment variables
    BENTOML__SECTION__KEY override them)."""


@config.command(name="set")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@common_options
def set_command(pairs: Tuple[str, ...]) -> None:
    """Set keys in bentoml.cfg, e.g. yatai_service.url=127.0.0.1:50051 (all or none)."""
    parsed = _parse_pairs(pairs)
    try:
        configuration.set_config_values(parsed)
    except InvalidArgument as exc:
        raise _usage(exc) from None
    _note_env_overrides(list(parsed))


@config.command()
@click.argument("key")
@common_options
def get(key: str) -> None:
    """Print a key's effective value (environment, file or default); exit 1 when unset."""
    try:
        name = lookup_key(key).name
    except InvalidArgument as exc:
        raise _usage(exc) from None
    value = configuration.config_value(name)
    if value is None:
        raise click.ClickException(f"{name} is not set")
    click.echo(value)


@config.command()
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@common_options
def unset(keys: Tuple[str, ...]) -> None:
    """Remove keys from bentoml.cfg (back to their defaults)."""
    try:
        names = [lookup_key(key).name for key in keys]
    except InvalidArgument as exc:
        raise _usage(exc) from None
    for name in names:
        configuration.unset_config_value(name)
    _note_env_overrides(names)


def _ini(sections: Dict[str, Dict[str, str]]) -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict(sections)
    out = io.StringIO()
    parser.write(out)
    return out.getvalue().rstrip("\n")


@config.command()
@common_options
def view() -> None:
    """Print what bentoml.cfg holds, as INI (the token masked)."""
    from bentoml.configuration.config_file import read_config_file

    path = configuration.config_file_path()
    parser = read_config_file(path)
    sections = {}
    for section in parser.sections():
        options = {}
        for option, value in parser.items(section):
            key = f"{section}.{option}"
            options[option] = configuration.masked(key, value) if key in KEYS else value
        sections[section] = options
    if not sections:
        click.echo(f"# {path} holds no settings: every key has its default (see `bentoml config view-effective`)",
                   err=True)
        return
    click.echo(_ini(sections))


@config.command(name="view-effective")
@click.option("-o", "--output", type=click.Choice(["ini", "json", "yaml"]), default="ini", show_default=True)
@common_options
def view_effective(output: str) -> None:
    """Print every known key's effective value and where it came from (env, file, default)."""
    effective = configuration.effective_config()
    for warning in configuration.unknown_environment_keys():
        click.echo(f"warning: ignoring {warning}", err=True)
    if output != "ini":
        echo_data({key: {"value": configuration.masked(key, value), "source": source,
                         "doc": KEYS[key].doc} for key, (value, source) in effective.items()}, output)
        return
    lines: List[str] = []
    current = None
    for key, (value, source) in effective.items():
        spec = KEYS[key]
        if spec.section != current:
            lines += ([""] if lines else []) + [f"[{spec.section}]"]
            current = spec.section
        origin = {"env": f"from ${spec.set_env_var() or spec.env_var}", "file": "from bentoml.cfg", "default": "default"}[source]
        lines.append(f"# {spec.doc} ({origin})")
        shown = configuration.masked(key, value)
        lines.append(f"{spec.option} = {shown}" if shown is not None else f"# {spec.option} is not set")
    click.echo("\n".join(lines))


@config.command()
@common_options
def reset() -> None:
    """Remove bentoml.cfg: every key back to its default."""
    path = configuration.config_file_path()
    if configuration.reset_config():
        click.echo(f"Removed {path}", err=True)
    else:
        click.echo(f"{path} does not exist; nothing to reset", err=True)


COMMANDS = [config]
