"""Answers lookups with dlt's own resolver, for strata's compatibility tests.

Reads {"profile": str | null, "queries": [...]} as JSON on stdin, where a query
is {"op": "get" | "walk", "path": "a.b.c", "secret": bool, "pipeline": str | null}.
Prints one JSON list of results: {"found": bool, "value": ...} or
{"error": "<exception class name>"}. The workspace is the current directory.
"""

import json
import sys
from typing import Any

import dlt
from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.configuration.specs.config_section_context import ConfigSectionContext
from dlt.common.typing import TSecretValue


def plain(value: Any) -> Any:
    if hasattr(value, "unwrap"):
        value = value.unwrap()
    return json.loads(json.dumps(value, default=str))


def walk(sections, key, secret, pipeline):
    hint = TSecretValue if secret else Any
    spec = configspec(type("Probe", (BaseConfiguration,), {"__annotations__": {key: hint}, key: None}))
    ctx = ConfigSectionContext(pipeline_name=pipeline, sections=tuple(sections))
    with Container().injectable_context(ctx):
        config = resolve_configuration(spec(), sections=tuple(sections), accept_partial=True)
    return getattr(config, key)


def main() -> None:
    request = json.load(sys.stdin)
    if request.get("profile"):
        from dlt._workspace.run_context import switch_profile

        switch_profile(request["profile"])
    results = []
    for q in request["queries"]:
        try:
            if q["op"] == "get":
                accessor = dlt.secrets if q["secret"] else dlt.config
                value = accessor.get(q["path"])
            else:
                *sections, key = q["path"].split(".")
                value = walk(sections, key, q["secret"], q.get("pipeline"))
            results.append({"found": value is not None, "value": plain(value)})
        except Exception as ex:  # the class name is compared, never the message
            results.append({"error": type(ex).__name__})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
