"""Repository commands: ``list``, ``get``, ``delete``, ``retrieve``, ``info``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List

import click

from bentoml.cli.common import OUTPUT_FORMATS, bundle_path, common_options, echo_data, echo_table, humanize_age
from bentoml.repository import get_repository
from bentoml.repository.tags import parse_tag

if TYPE_CHECKING:  # SQLAlchemy and cattrs load only when a command runs: --help stays fast
    from bentoml.repository.record import BundleRecord


def _apis(config: Dict[str, Any]) -> str:
    return ",".join(f"{a['name']}<{a['input_type']}>" for a in config.get("apis", []))


def _artifacts(config: Dict[str, Any]) -> str:
    return ",".join(f"{a['name']}<{a['artifact_type']}>" for a in config.get("artifacts", []))


def bundle_json(record: "BundleRecord") -> Dict[str, Any]:
    """The spec's ``bentoml get NAME:VERSION`` document (camelCase, as the spec shows it)."""
    from bentoml.bundle import templates
    from bentoml.bundle.config import BundleConfig

    config = BundleConfig.from_dict(record.config, record.tag)
    created = record.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "name": record.name,
        "version": record.version,
        "uri": {"type": record.uri_type, "uri": record.uri},
        "bentoServiceMetadata": {
            "name": config.name,
            "version": config.version,
            "createdAt": created,
            "env": {
                "condaEnv": templates.environment_yml(config),
                "pipDependencies": "\n".join(
                    [f"{w.distribution}=={w.version}" for w in config.wheels] + config.env.pip_requirements),
                "pythonVersion": config.env.python_version,
                "dockerBaseImage": config.env.docker_base_image,
            },
            "artifacts": [{"name": a.name, "artifactType": a.artifact_type} for a in config.artifacts],
            "apis": [{
                "name": a.name,
                "InputType": a.input_type,
                "outputType": a.output_type,
                "docs": a.doc,
                "inputConfig": a.input_config,
                "mbMaxBatchSize": a.mb_max_batch_size,
                "mbMaxLatency": a.mb_max_latency,
            } for a in config.apis],
        },
    }


def _echo_records(records: List["BundleRecord"], output: str, first_column: str) -> None:
    if output in ("json", "yaml"):
        echo_data([bundle_json(r) for r in records], output)
        return
    headers = ["BENTO_SERVICE", first_column, "APIS", "ARTIFACTS"]
    rows = []
    for r in records:
        when = humanize_age(r.created_at) if first_column == "AGE" else r.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
        rows.append([r.tag, when, _apis(r.config), _artifacts(r.config)])
    if output == "wide":
        headers += ["CREATED_AT", "URI"] if first_column == "AGE" else ["URI"]
        for row, r in zip(rows, records):
            if first_column == "AGE":
                row.append(r.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"))
            row.append(r.uri)
    echo_table(headers, rows)


@click.command(name="list")
@click.option("-o", "--output", type=OUTPUT_FORMATS, default="table", show_default=True)
@click.option("--limit", type=click.IntRange(min=1),
              help="Show at most this many bundles (from a YataiService: 100 unless given)")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
              help="Skip this many bundles first (the next page: --offset=100)")
@click.option("--order-by", type=click.Choice(["created_at", "name"]), default="created_at", show_default=True)
@click.option("--asc/--desc", "ascending", default=False, help="Sort order (newest first by default)")
@common_options
def list_command(output: str, limit: int, offset: int, order_by: str, ascending: bool) -> None:
    """List saved bundles, newest first."""
    repo = get_repository()
    page = limit or repo.default_list_limit
    # One record more than the page says whether to point at the next page.
    records = repo.list(limit=None if page is None else page + 1, offset=offset, order_by=order_by,
                        ascending=ascending)
    if page is not None and len(records) > page:
        records = records[:page]
        click.echo(f"(bundles {offset + 1} to {offset + page}; `bentoml list --offset={offset + page}` "
                   "shows the next ones)", err=True)
    _echo_records(records, output, "AGE")


@click.command()
@click.argument("bento")
@click.option("-o", "--output", type=OUTPUT_FORMATS, default=None,
              help="NAME: table (default); NAME:VERSION: json (default)")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many versions")
@click.option("--print-location", is_flag=True,
              help="Print only the bundle's local directory (NAME means its latest version), "
                   "e.g. for `pip install \"$(bentoml get NAME --print-location -q)\"`")
@common_options
def get(bento: str, output: str, limit: int, print_location: bool) -> None:
    """Show a bundle (NAME:VERSION, NAME:latest) or the versions of NAME."""
    name, version = parse_tag(bento)
    repo = get_repository()
    if print_location:
        if output is not None or limit is not None:
            raise click.UsageError("--print-location takes no --output or --limit")
        click.echo(repo.local_path(bento))
        return
    if version is None:
        records = repo.list(name=name, limit=limit)
        if not records:
            repo.get(bento)  # raises the not-found error
        _echo_records(records, output or "table", "CREATED_AT")
        return
    record = repo.get(bento)
    if output in ("table", "wide"):
        _echo_records([record], output, "CREATED_AT")
    else:
        data = bundle_json(record)
        cached = repo.cached_path(record.tag)
        if cached is not None:  # a team server's bundle this client holds a copy of
            data["localPath"] = cached
        echo_data(data, output or "json")


@click.command()
@click.argument("bentos", nargs=-1, required=True)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation")
@common_options
def delete(bentos: List[str], yes: bool) -> None:
    """Delete bundles by NAME:VERSION (or NAME:latest)."""
    repo = get_repository()
    records = []
    for tag in bentos:
        if parse_tag(tag)[1] is None:
            raise click.UsageError(f"name a version to delete: {tag}:VERSION or {tag}:latest")
        records.append(repo.get(tag))
    tags = ", ".join(r.tag for r in records)
    if not yes and not click.confirm(f"Delete {tags}?", err=True):
        raise click.ClickException("aborted; nothing deleted")
    for record in records:
        repo.delete(record.tag)
        click.echo(f"Deleted {record.tag}", err=True)


@click.command()
@click.argument("bento")
@click.option("--target_dir", "--target-dir", "target_dir", default=".", show_default=True,
              help="Directory to put the bundle into; must not exist or be empty")
@common_options
def retrieve(bento: str, target_dir: str) -> None:
    """Retrieves BentoService artifacts into a target directory."""
    path = get_repository().retrieve(bento, target_dir)
    click.echo(path)


@click.command()
@click.argument("bento")
@click.option("-o", "--output", type=click.Choice(["json", "yaml"]), default="json", show_default=True)
@common_options
def info(bento: str, output: str) -> None:
    """Print a bundle's bentoml.yml (NAME:VERSION or a path)."""
    from bentoml.bundle.config import BundleConfig

    echo_data(BundleConfig.load(bundle_path(bento)).to_dict(), output)


COMMANDS = [list_command, get, delete, retrieve, info]
