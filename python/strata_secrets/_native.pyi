from typing import Any, Dict, List, Optional, Tuple

class StrataError(Exception):
    """An error of strata: its message says what is wrong and what to do, never a value."""

class MissingValue(StrataError):
    """No provider holds the value."""

    tried: List[Tuple[str, str]]
    """Every (provider, name) asked, in order."""
    path: str

class Answer:
    """One answer: its value, where it came from, and what was asked."""

    @property
    def value(self) -> Any: ...
    @property
    def provenance(self) -> str: ...
    @property
    def trace(self) -> List[Dict[str, str]]: ...
    @property
    def secret(self) -> bool: ...

class Strata:
    """An opened project: its profile, its chain of providers and its vaults."""

    @property
    def profile(self) -> Optional[str]: ...
    @property
    def workspace(self) -> str: ...
    @property
    def vaults(self) -> List[str]: ...
    def secret(self, path: str, pipeline: Optional[str] = None) -> str: ...
    def config(self, path: str, pipeline: Optional[str] = None) -> Any: ...
    def get(
        self, path: str, pipeline: Optional[str] = None, config: bool = False
    ) -> Answer: ...
    def explain(
        self, path: str, pipeline: Optional[str] = None, config: bool = False
    ) -> Dict[str, Any]: ...
    def export(self, reveal: bool = False) -> Dict[str, Any]: ...
    def _lookup(
        self, segments: List[str], secret: bool, vaults_only: bool
    ) -> Optional[Tuple[Any, str, str]]: ...
    def _names(self, segments: List[str], vaults_only: bool) -> List[Tuple[str, str]]: ...

def open(
    workspace: Optional[str] = None,
    profile: Optional[str] = None,
    global_dir: Optional[str] = None,
    secrets_dir: Optional[str] = None,
) -> Strata: ...
def main(argv: List[str]) -> int: ...
