"""``bentoml.yml``: the bundle's self-description (attrs classes, cattrs, snake_case).

``schema_version`` changes only when old readers could misread a bundle; a
reader refuses versions it does not know instead of guessing.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional

import attrs
import cattrs
import yaml

from bentoml.bundle.naming import is_plain_file_name, validate_name, validate_version
from bentoml.exceptions import BundleError, InvalidArgument
from bentoml.schema import InputSchema

SCHEMA_VERSION = 1
BUNDLE_CONFIG_FILE = "bentoml.yml"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@attrs.define
class ProviderRef:
    """Which plugin distribution (and version) provides an artifact or adapter class."""

    distribution: str
    version: Optional[str] = None


@attrs.define
class ArtifactConfig:
    name: str
    artifact_type: str
    provider: ProviderRef
    # Added within schema 1 (absent from older bundles, and when the model was packed
    # without input_example): the columns the model takes, see bentoml.schema.
    input_schema: Optional[InputSchema] = None


@attrs.define
class APIConfig:
    name: str
    doc: str
    input_type: str
    input_provider: ProviderRef
    input_config: Dict[str, Any]
    output_type: str
    output_provider: ProviderRef
    output_config: Dict[str, Any] = attrs.field(factory=dict)
    mb_max_batch_size: Optional[int] = None
    mb_max_latency: Optional[float] = None
    mb_fixed_batch_size: Optional[int] = None
    # Added within schema 1: @api(batch=...) as declared (None: not given, a batch).
    batch: Optional[bool] = None


@attrs.define
class EnvConfig:
    """What the bundle needs installed: ``conda_dependencies`` include those the artifact
    classes declare; ``system_packages`` are Debian packages the Dockerfile installs."""

    python_version: str
    pip_requirements: List[str] = attrs.field(factory=list)
    conda_channels: List[str] = attrs.field(factory=list)
    conda_dependencies: List[str] = attrs.field(factory=list)
    docker_base_image: str = ""
    has_setup_sh: bool = False
    # Added within schema 1: absent from older bundles, which still load (empty).
    system_packages: List[str] = attrs.field(factory=list)
    # Added within schema 1, BentoML 0.9-0.13's @env options (see bentoml.service.env_options):
    pip_index_url: Optional[str] = None
    pip_extra_index_urls: List[str] = attrs.field(factory=list)
    pip_trusted_hosts: List[str] = attrs.field(factory=list)
    conda_env_yml: Optional[Dict[str, Any]] = None  # the base of environment.yml
    conda_override_channels: bool = False
    zipimport_archives: List[str] = attrs.field(factory=list)  # file names under <Name>/zipimports/


@attrs.define
class ServiceRef:
    """Where the service class lives inside the bundle's source directory."""

    module: str
    class_name: str
    local_modules: List[str] = attrs.field(factory=list)


@attrs.define
class WheelRef:
    """A wheel the bundle carries (our kernel and plugins) so it never needs the index for them."""

    distribution: str
    version: str
    filename: str


@attrs.define
class BundleConfig:
    name: str
    version: str
    created_at: str
    bentoml_version: str
    service: ServiceRef
    env: EnvConfig
    apis: List[APIConfig] = attrs.field(factory=list)
    artifacts: List[ArtifactConfig] = attrs.field(factory=list)
    wheels: List[WheelRef] = attrs.field(factory=list)
    schema_version: int = SCHEMA_VERSION
    kind: str = "BentoService"

    def to_dict(self) -> Dict[str, Any]:
        data = _converter.unstructure(self)
        for artifact in data["artifacts"]:
            if artifact.get("input_schema") is None:
                artifact.pop("input_schema", None)  # optional: leave it out rather than write null
        # Readers check the schema first: put it on top.
        return {"schema_version": data.pop("schema_version"), "kind": data.pop("kind"), **data}

    def dump(self, path: str) -> None:
        with open(path, "w") as f:
            yaml.safe_dump(self.to_dict(), f, sort_keys=False)

    @classmethod
    def from_dict(cls, data: Any, where: str = "bentoml.yml") -> "BundleConfig":
        if not isinstance(data, dict):
            raise BundleError(f"{where} is corrupt: expected a mapping, got {type(data).__name__}")
        schema = data.get("schema_version")
        if schema != SCHEMA_VERSION:
            raise BundleError(
                f"{where} has schema_version {schema!r}; this bentoml reads schema {SCHEMA_VERSION} "
                "(a bundle from an incompatible bentoml, or not ours)")
        try:
            config = _converter.structure(data, cls)
        except (cattrs.BaseValidationError, KeyError, TypeError, ValueError) as exc:
            detail = "; ".join(cattrs.transform_error(exc)) if isinstance(exc, cattrs.BaseValidationError) else str(exc)
            raise BundleError(f"{where} is corrupt: {detail}") from None
        _check_names(config, where)
        return config

    @classmethod
    def load(cls, bundle_dir: str) -> "BundleConfig":
        path = os.path.join(bundle_dir, BUNDLE_CONFIG_FILE)
        if not os.path.isfile(path):
            raise BundleError(f"{bundle_dir} is not a bundle: it has no {BUNDLE_CONFIG_FILE}")
        try:
            with open(path) as f:
                data = yaml.safe_load(f)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise BundleError(f"{path} is corrupt: not valid YAML ({exc})") from None
        return cls.from_dict(data, path)


def _check_names(config: BundleConfig, where: str) -> None:
    """Names that become paths or imports are checked like user input: a tampered
    ``bentoml.yml`` must not reach outside the bundle (``name: ../x``, ``module: ../../x``)."""
    try:
        validate_name(config.name)
        validate_version(config.version)
    except InvalidArgument as exc:
        raise BundleError(f"{where} is corrupt: {exc}") from None
    named = [("service.module", config.service.module)]
    named += [("service.local_modules", m) for m in config.service.local_modules]
    for what, module in named:
        if not _MODULE.fullmatch(module):
            raise BundleError(f"{where} is corrupt: {what} {module!r} is not a dotted Python module name")
    identifiers = [("service.class_name", config.service.class_name)]
    identifiers += [("artifact name", a.name) for a in config.artifacts]
    identifiers += [("API name", a.name) for a in config.apis]
    for what, name in identifiers:
        if not _IDENTIFIER.fullmatch(name):
            raise BundleError(f"{where} is corrupt: {what} {name!r} is not a Python identifier")
    for archive in config.env.zipimport_archives:  # joined to the bundle's path when it loads
        if not is_plain_file_name(archive):
            raise BundleError(f"{where} is corrupt: env.zipimport_archives {archive!r} is not a file name")


_converter = cattrs.Converter(forbid_extra_keys=False)
