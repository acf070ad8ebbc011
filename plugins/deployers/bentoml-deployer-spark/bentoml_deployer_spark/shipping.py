"""Ship a Bento to Spark's executors once per SparkContext (``SparkContext.addFile``).

The driver resolves the Bento (a path or ``NAME:VERSION``), picks the API, and
adds the bundle directory to the context's files; each executor fetches it once
into its ``SparkFiles`` folder, where :mod:`.on_executor` loads it.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

import attrs

from bentoml.exceptions import InvalidArgument, NotFound

#: The Arrow batch size Spark uses when none is set (spark.sql.execution.arrow.maxRecordsPerBatch).
DEFAULT_CHUNK_SIZE = 10_000


@attrs.frozen
class ShippedBento:
    """A Bento added to a SparkContext's files, and the API the executors call."""

    tag: str  # NAME:VERSION, for messages
    driver_path: str  # the bundle directory on the driver
    file_name: str  # its name in SparkFiles
    api_name: str
    distributions: List[str]  # the kernel and plugins the Bento carries wheels of
    chunk_size: int

    def as_dict(self) -> Dict[str, Any]:
        """What the executor function carries: plain data, nothing of this plugin."""
        return attrs.asdict(self)


def resolve_bento(bento: Any) -> str:
    """The bundle directory of a path, ``NAME:VERSION`` or ``NAME:latest`` (an existing path wins)."""
    if not isinstance(bento, (str, os.PathLike)):
        raise InvalidArgument(f"bento must be a bundle path or NAME:VERSION, got {bento!r}")
    path = os.path.expanduser(os.fspath(bento))
    if os.path.isdir(path):
        return os.path.realpath(path)
    from bentoml.repository import get_repository

    return os.path.realpath(get_repository().resolve(path))


def choose_api(api_names: List[str], api_name: Optional[str], tag: str) -> str:
    """``api_name``, or the Bento's only API; a NotFound/InvalidArgument naming the choices."""
    if api_name is None:
        if len(api_names) != 1:
            raise InvalidArgument(f"the Bento {tag} has {len(api_names)} APIs ({', '.join(api_names)}): "
                                  "name one with api_name=")
        return api_names[0]
    if api_name not in api_names:
        raise NotFound(f"the Bento {tag} has no API named {api_name!r}; APIs: {', '.join(api_names)}")
    return api_name


def ship(spark: Any, bento: Any, api_name: Optional[str] = None,
         chunk_size: Optional[int] = None) -> ShippedBento:
    """Add the Bento to ``spark``'s context files (once per context) and pick its API."""
    from bentoml.deployer import check_bundle

    path = resolve_bento(bento)
    config = check_bundle(path)
    tag = f"{config.name}:{config.version}"
    api = choose_api([a.name for a in config.apis], api_name, tag)
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size <= 0):
        raise InvalidArgument(f"chunk_size must be a positive number of rows, got {chunk_size!r}")
    context = spark.sparkContext
    if chunk_size is None:
        chunk_size = int(context.getConf().get("spark.sql.execution.arrow.maxRecordsPerBatch",
                                               str(DEFAULT_CHUNK_SIZE)))
    shipped: Dict[str, str] = context.__dict__.setdefault("_bentoml_shipped", {})  # file name -> path
    name = os.path.basename(path)
    if shipped.get(name, path) != path:
        raise InvalidArgument(f"this SparkContext already ships a Bento directory named {name!r} "
                              f"({shipped[name]}); Spark's files are known by name: rename {path}")
    if name not in shipped:
        context.addFile(path, recursive=True)
        shipped[name] = path
    return ShippedBento(tag, path, name, api, [w.distribution for w in config.wheels], chunk_size)
