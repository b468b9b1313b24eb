"""strata in dlt's configuration resolution.

``register()`` adds a provider to dlt's chain. After it, ``dlt.secrets[...]``,
``dlt.config[...]`` and every configuration dlt resolves reach strata:

- ``chain="vaults"`` (default): strata's vaults, the ones the workspace's
  ``[providers]`` bootstrap (or ``PROVIDERS__*`` variables) enables, join
  dlt's chain after its own providers. A vault dlt also has (Google, AWS) is
  answered once: strata's provider takes the place of dlt's for it.
- ``chain="all"``: strata's whole chain (environment, ``/run/secrets``, the
  profile's TOML files, the vaults) replaces dlt's providers.

dlt walks the sections itself and asks each provider for one exact path at a
time; strata answers it with its own names and fragment rules (a vault's
``dlt_secrets_toml`` and section fragments are fetched once, concurrently,
and cached, so the fields of one configuration reach the vault together).
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple, Type

from dlt.common.configuration.container import Container
from dlt.common.configuration.providers.provider import ConfigProvider
from dlt.common.configuration.specs.base_configuration import is_secret_hint
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

import strata_secrets

__all__ = ["StrataProvider", "register"]

# dlt's own providers for the vaults strata also has, by strata's section
_DLT_VAULT_PROVIDERS = {
    "google_secrets": "GoogleSecretsProvider",
    "aws_secrets": "AwsSecretsManagerProvider",
}

_CHAINS = ("vaults", "all")


class StrataProvider(ConfigProvider):
    """A dlt configuration provider backed by strata."""

    def __init__(self, strata: "strata_secrets.Strata", chain: str = "vaults") -> None:
        if chain not in _CHAINS:
            raise ValueError(f"chain must be one of {_CHAINS}, not {chain!r}")
        self._strata = strata
        self._chain = chain
        self._vaults_only = chain == "vaults"
        # where the last answer for each path came from, for dlt's traces
        self._locations: Dict[Tuple[str, ...], str] = {}

    def get_value(
        self, key: str, hint: Type[Any], pipeline_name: Optional[str], *sections: str
    ) -> Tuple[Optional[Any], str]:
        segments: List[str] = ([pipeline_name] if pipeline_name else []) + list(sections) + [key]
        secret = is_secret_hint(hint) if hint is not None else False
        found = self._strata._lookup(segments, secret, self._vaults_only)
        if found is None:
            names = self._strata._names(segments, self._vaults_only)
            return None, names[0][1] if names else ".".join(segments)
        value, name, location = found
        self._locations[tuple(segments)] = location
        return value, name

    def get_value_location(self, key: str, pipeline_name: Optional[str], *sections: str) -> str:
        segments = ([pipeline_name] if pipeline_name else []) + list(sections) + [key]
        return self._locations.get(tuple(segments), "")

    @property
    def supports_secrets(self) -> bool:
        return True

    @property
    def supports_sections(self) -> bool:
        return True

    @property
    def name(self) -> str:
        return "strata" if self._chain == "all" else "strata vaults"

    @property
    def is_empty(self) -> bool:
        return self._vaults_only and not self._strata.vaults

    @property
    def locations(self) -> Sequence[str]:
        return [f"strata ({v})" for v in self._strata.vaults] if self._vaults_only else ["strata"]

    @property
    def strata(self) -> "strata_secrets.Strata":
        """The opened project this provider answers from."""
        return self._strata


# The provider registered last; dlt rebuilds its chain at times (a run
# context reload, a pipeline in a new workspace): strata's place in it is
# restored each time dlt adds its extra providers.
_REGISTERED: Optional[StrataProvider] = None


def _rewrite(providers: List[ConfigProvider], ours: StrataProvider) -> List[ConfigProvider]:
    """dlt's chain with strata in it: after dlt's providers in place of
    dlt's own for the vaults strata enabled (`vaults`), or alone (`all`)."""
    if ours._chain == "all":
        return [ours]
    replaced = {_DLT_VAULT_PROVIDERS[v] for v in ours.strata.vaults if v in _DLT_VAULT_PROVIDERS}
    kept = [
        p for p in providers if type(p).__name__ not in replaced and not isinstance(p, StrataProvider)
    ]
    return kept + [ours]


def _install() -> None:
    """Hooks strata into dlt's chain building, once per process: each time
    dlt adds its extra providers (the vaults of its own bootstrap, which
    shares strata's `[providers]` switches), dlt's own provider for a vault
    strata enabled is never built, and the chain is rewritten."""
    from dlt.common.configuration.specs import config_providers_context as cpc

    if getattr(cpc.ConfigProvidersContainer.add_extras, "_strata", False):
        return
    original_add_extras = cpc.ConfigProvidersContainer.add_extras

    def add_extras(self: Any) -> None:
        original_add_extras(self)
        if _REGISTERED is not None:
            self.providers[:] = _rewrite(self.providers, _REGISTERED)

    add_extras._strata = True  # type: ignore[attr-defined]
    cpc.ConfigProvidersContainer.add_extras = add_extras  # type: ignore[method-assign]

    for section, factory in (("google_secrets", "_google_secrets_provider"), ("aws_secrets", "_aws_secrets_provider")):
        original = getattr(cpc, factory)

        def replacement(settings: Any, _original: Any = original, _section: str = section) -> Any:
            if _REGISTERED is not None and (
                _REGISTERED._chain == "all" or _section in _REGISTERED.strata.vaults
            ):
                return _REGISTERED
            return _original(settings)

        setattr(cpc, factory, replacement)


def register(
    workspace: Optional[str] = None,
    profile: Optional[str] = None,
    chain: str = "vaults",
) -> StrataProvider:
    """Opens the workspace (as ``strata_secrets.open``) and adds strata to
    dlt's chain of providers; returns the provider.

    ``chain="vaults"`` appends strata's enabled vaults after dlt's providers,
    in place of dlt's own Google and AWS providers when strata enables those
    vaults (dlt's own are then never built); ``chain="all"`` replaces dlt's
    providers with strata's whole chain. Registering again replaces the
    provider registered before. The place holds when dlt rebuilds its chain.
    """
    global _REGISTERED
    provider = StrataProvider(strata_secrets.open(workspace, profile), chain)
    _install()
    _REGISTERED = provider
    container = Container()[PluggableRunContext].providers
    container.providers[:] = _rewrite(list(container.providers), provider)
    return provider
