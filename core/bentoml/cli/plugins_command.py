"""``bentoml plugins``: what is installed, its versions, what each registers, what failed."""
from __future__ import annotations

import click

from bentoml.cli.common import common_options, echo_data, echo_table
from bentoml.plugins import get_registry


@click.command()
@click.option("-o", "--output", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
@common_options
def plugins(output: str) -> None:
    """List plugin distributions, their versions and what each registers."""
    registry = get_registry()
    infos = list(registry.plugins())
    if output != "table":
        echo_data({
            "plugins": [{"plugin": p.plugin, "distribution": p.distribution, "version": p.version,
                         "registers": p.registers} for p in infos],
            "failed": [{"plugin": f.plugin, "distribution": f.distribution, "error": f.error}
                       for f in registry.failures],
        }, output)
        return
    rows = []
    for p in infos:
        registers = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in p.registers.items())
        rows.append([p.distribution, p.version or "-", p.plugin.rpartition(":")[2], registers or "-"])
    for f in registry.failures:
        rows.append([f.distribution, "-", f.plugin.rpartition(":")[2], f"FAILED: {f.error}"])
    echo_table(["DISTRIBUTION", "VERSION", "ENTRY_POINT", "REGISTERS"], rows)


COMMANDS = [plugins]
