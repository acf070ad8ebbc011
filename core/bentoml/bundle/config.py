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
    # Added within schema 1: @api(route=...) (None: served at /<name>).
    route: Optional[str] = None


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
    # Added within schema 1: the folder ``@web_static_content`` declared, as declared
    # (the bundle's copy is always ``<data_dir>/web_static_content``); absent without one.
    web_static_content: Optional[str] = None
    schema_version: int = SCHEMA_VERSION
    kind: str = "BentoService"

    def to_dict(self) -> Dict[str, Any]:
        data = _converter.unstructure(self)
        for artifact in data["artifacts"]:
            if artifact.get("input_schema") is None:
                artifact.pop("input_schema", None)  # optional: leave it out rather than write null
        if data.get("web_static_content") is None:
            data.pop("web_static_content", None)
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
        refuse_0x_bundle(data, bundle_dir)
        return cls.from_dict(data, path)


def saved_by_0x(data: Any) -> Optional[str]:
    """The BentoML 0.x release that wrote this ``bentoml.yml``, or None when it is not one of theirs.

    0.3-0.13 wrote ``version: <bentoml version>``, ``kind: BentoService`` and a
    ``metadata:`` mapping (service name, version, module); 0.1-0.2 wrote
    ``bentoml_version`` next to ``module_name`` at the top.  Ours always has
    ``schema_version``.
    """
    if not isinstance(data, dict) or "schema_version" in data:
        return None
    if isinstance(data.get("metadata"), dict) and "version" in data:
        return str(data["version"])
    if "module_name" in data and "bentoml_version" in data:
        return str(data["bentoml_version"])
    return None


def refuse_0x_bundle(data: Any, bundle_dir: str) -> None:
    """A BundleError for a bundle BentoML 0.x saved: its layout and pickles are not this kernel's."""
    version = saved_by_0x(data)
    if version is None:
        return
    if not re.fullmatch(r"0\.\d+[\w.+-]{0,60}", version):  # not a 0.x release: edited, or a service version
        version = "0.x"
    raise BundleError(f"{bundle_dir} was saved by BentoML {version}, not by this kernel; re-save the "
                      "service with this kernel (see docs/migrating.md)")


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
