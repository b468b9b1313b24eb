"""A stand-in for a pipeline: it reads its settings from the environment
that `strata exec` hands it, and says which it got (never their values)."""

import os

WANTED = [
    "SOURCES__PIPEDRIVE__API_KEY",
    "SOURCES__POKEMON__BASE_URL",
    "DESTINATION__WAREHOUSE__CREDENTIALS__DATABASE",
    "RUNTIME__LOG_LEVEL",
]

for name in WANTED:
    value = os.environ.get(name)
    state = "missing" if value is None else f"set ({len(value)} characters)"
    print(f"{name}: {state}")
