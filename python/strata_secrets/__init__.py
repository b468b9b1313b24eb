"""strata for Python: configuration and secrets for dlt pipelines.

``open()`` a workspace (the ``.dlt/`` layout dlt documents), then read
secrets and configuration from the environment, ``/run/secrets``, the
profile's TOML files and the vaults its ``[providers]`` bootstrap enables.
``strata_secrets.dlt.register()`` plugs strata into dlt's own resolution.

No secret appears in a ``repr``, an exception or a traceback: values are
return values only.
"""

from os import PathLike
from typing import Any, Optional, Union

from ._native import Answer, MissingValue, Strata
from ._native import StrataError as Error
from ._native import open as _open

__all__ = ["Answer", "Error", "MissingValue", "Strata", "open"]

__version__ = "0.1.0"

_Dir = Union[str, "PathLike[str]", None]


def _str(p: _Dir) -> Optional[str]:
    return None if p is None else str(p)


def open(  # noqa: A001 - the package's verb, as in the issue's API
    workspace: _Dir = None,
    profile: Optional[str] = None,
    *,
    global_dir: _Dir = None,
    secrets_dir: _Dir = None,
) -> Strata:
    """Opens the project at ``workspace`` (default: ``DLT_PROJECT_DIR``, else
    the current directory) with ``profile`` (default: ``WORKSPACE__PROFILE``,
    the pin, ``dev``) and the vaults its bootstrap enables.

    ``global_dir`` (default: dlt's, ``~/.dlt``) and ``secrets_dir``
    (default: ``/run/secrets``) are for tests and unusual layouts.
    """
    return _open(_str(workspace), profile, _str(global_dir), _str(secrets_dir))


def __getattr__(name: str) -> Any:
    # `strata_secrets.dlt` imports dlt: only when it is asked for
    if name == "dlt":
        import importlib

        return importlib.import_module(".dlt", __name__)
    raise AttributeError(name)
