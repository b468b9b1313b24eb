"""Leased credentials from Python (docs/runtime.md): OpenBao's database
engine makes PostgreSQL logins; strata's lease logs in, and `close()` (or
the end of a `with` block, or dropping the object) revokes it."""

import gc
import time


def leased(project, bao, postgres):
    bao.database_role(postgres, "loader")
    project.write(
        ".dlt/config.toml",
        '[providers.hashicorp_vault.leases]\n"destination.postgres.credentials" = "database/creds/loader"\n',
    )
    project.setenv("PROVIDERS__ENABLE_HASHICORP_VAULT", "true")
    project.setenv("VAULT_ADDR", bao.addr)
    project.setenv("VAULT_TOKEN", bao.token)


def creds(s):
    table = s.get("destination.postgres.credentials").value
    return table["username"], table["password"]


def eventually(check, within=10.0):
    until = time.time() + within
    while time.time() < until:
        if check():
            return True
        time.sleep(0.2)
    return check()


def test_close_and_with_revoke_the_lease(project, bao, postgres):
    leased(project, bao, postgres)
    s = project.open()
    user, password = creds(s)
    assert "loader" in user
    assert postgres.logs_in(user, password)
    assert creds(s) == (user, password), "one lease for the process"
    s.close()
    assert not postgres.logs_in(user, password)

    with project.open() as s:
        user, password = creds(s)
        assert postgres.logs_in(user, password)
    assert not postgres.logs_in(user, password)


def test_dropping_the_object_revokes_the_lease(project, bao, postgres):
    leased(project, bao, postgres)
    s = project.open()
    user, password = creds(s)
    assert postgres.logs_in(user, password)
    del s
    gc.collect()
    assert eventually(lambda: not postgres.logs_in(user, password))
