"""What is checked before a build: the image name, conda packages, the base image's Python."""
from __future__ import annotations

import re
from typing import List, Optional

from bentoml.bundle.config import BundleConfig
from bentoml.exceptions import BentoMLException, InvalidArgument

# docker's reference grammar: [registry[:port]/]path[:tag]; a path is lower case.
_PATH = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_REGISTRY = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]+)?")


def image_name(config: BundleConfig, tag: Optional[str] = None) -> str:
    """``tag`` (``NAME[:TAG]``) with its name lower-cased, or ``name:version`` of the bundle,
    lower-cased (``IrisClassifier:20200121114004_360ECB`` -> ``irisclassifier:20200121114004_360ecb``);
    an :class:`InvalidArgument` for a name no engine takes."""
    return normalize_image(tag) if tag else f"{config.name}:{config.version}".lower()


def normalize_image(tag: str) -> str:
    """``NAME[:TAG]`` with its name lower-cased (``Iris:V1`` -> ``iris:V1``); an
    :class:`InvalidArgument` for a name no engine takes."""
    name, colon, version = tag.rpartition(":")
    if not colon or "/" in version:  # no tag, or the colon was a registry's port
        name, version = tag, ""
    registry, slash, path = name.partition("/")
    if not (slash and ("." in registry or ":" in registry or registry == "localhost")):
        registry, path = "", name
    path = path.lower()
    if (registry and not _REGISTRY.fullmatch(registry)) or not _PATH.fullmatch(path) \
            or (version and not _TAG.fullmatch(version)):
        raise InvalidArgument(f"invalid image name {tag!r}: expected NAME[:TAG], a name of lower-case "
                              "letters, digits and . _ - separators (/ between parts), a tag of "
                              "letters, digits and . _ - (at most 128)")
    return (f"{registry}/" if registry else "") + path + (f":{version}" if version else "")


def conda_packages(config: BundleConfig) -> List[str]:
    """The conda packages the bundle declares (``python`` and ``pip`` aside), which the image's
    pip cannot install."""
    env = config.env
    declared = list(env.conda_dependencies) + [d for d in (env.conda_env_yml or {}).get("dependencies", []) or []
                                               if isinstance(d, str)]
    names = [d for d in declared if re.split(r"[=<>!~ ]", d.strip(), maxsplit=1)[0].lower() not in ("python", "pip")]
    return list(dict.fromkeys(names))


def refuse_conda(config: BundleConfig) -> None:
    """A :class:`BentoMLException` naming the conda packages and the ways out, if there are any."""
    packages = conda_packages(config)
    if packages:
        raise BentoMLException(
            f"{config.name}:{config.version} declares conda packages ({', '.join(packages)}), which the "
            "image's pip cannot install. Declare pip equivalents (@bentoml.env(pip_packages=[...])), or "
            "set @bentoml.env(docker_base_image=...) to a conda-capable image of your own that has them "
            "and pass --ignore-conda to build without installing them")


def base_image_python(image: str) -> Optional[str]:
    """The Python ``X.Y`` an image's tag says (``python:3.10-slim`` -> ``3.10``), None when it
    does not say."""
    found = re.search(r"(?:^|/)python:(\d+\.\d+)(?!\d)", image) \
        or re.search(r"[-:_](?:py|python)(\d)(\d+)(?!\d)", image.rpartition("/")[2])
    if found is None:
        return None
    return found.group(1) if found.lastindex == 1 else f"{found.group(1)}.{found.group(2)}"


def python_mismatch(config: BundleConfig, base_image: Optional[str] = None) -> Optional[str]:
    """A warning when the base image's tag (``base_image``, else the bundle's
    ``docker_base_image``) names another Python minor than the bundle was saved with (its
    pickles and wheels may not load there), else None."""
    saved = ".".join(config.env.python_version.split(".")[:2])
    base_image = base_image or config.env.docker_base_image
    image = base_image_python(base_image)
    if image is None or image == saved:
        return None
    return (f"{config.name}:{config.version} was saved with Python {saved}, but the base image "
            f"{base_image} has Python {image}: its artifacts and wheels may not load there")
