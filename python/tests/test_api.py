"""The Python API against the workspaces the Rust tests use (environment,
TOML profiles, secret files, pipelines), each answer compared with the
`strata` command's on the same project."""

import datetime
import json
import multiprocessing
import os
import threading
import traceback

import pytest

import strata_secrets as strata

CANARY = "canary-s3cr3t-value"


def workspace(project):
    project.write(
        ".dlt/secrets.toml",
        "[sources.pipedrive]\napi_key = \"base-key\"\n"
        "[destination.pg.credentials]\nhost = \"db\"\npassword = \"" + CANARY + "\"\n"
        "[my_pipe.sources.pipedrive]\napi_key = \"pipe-key\"\n",
    )
    project.write(".dlt/prod.secrets.toml", "[sources.pipedrive]\napi_key = \"prod-key\"\n")
    project.write(
        ".dlt/config.toml",
        "[runtime]\nlog_level = \"INFO\"\nworkers = 4\nratio = 0.5\nenabled = true\n"
        "when = 2026-01-02T03:04:05Z\nday = 2026-01-02\nnames = [\"a\", \"b\"]\n"
        "[sources.pipedrive]\npage_size = 100\n",
    )
    project.write("run-secrets/sources--pipedrive--token", "from-a-secret-file")
    project.setenv("SOURCES__PIPEDRIVE__PAGE", "50")
    return project


def cli_get(project, *args, profile=None):
    r = project.cli("get", *args, profile=profile)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_secrets_match_the_cli(project):
    workspace(project)
    for profile in (None, "dev", "prod"):
        s = project.open(profile)
        for path in ["sources.pipedrive.api_key", "sources.pipedrive.token",
                     "destination.pg.credentials.host", "sources.pipedrive.page"]:
            assert s.secret(path) == cli_get(project, path, profile=profile), (profile, path)
    s = project.open()
    assert s.profile == "dev"
    assert project.open("prod").profile == "prod"
    assert s.secret("sources.pipedrive.api_key", pipeline="my_pipe") == "pipe-key"
    assert s.secret("sources.pipedrive.api_key", pipeline="my_pipe") == cli_get(
        project, "sources.pipedrive.api_key", "--pipeline", "my_pipe"
    )
    # the environment answers first, as for the command
    assert s.secret("sources.pipedrive.page") == "50"


def test_config_values_are_native_python(project):
    workspace(project)
    s = project.open()
    assert s.config("runtime.log_level") == "INFO"
    assert s.config("runtime.workers") == 4
    assert s.config("runtime.ratio") == 0.5
    assert s.config("runtime.enabled") is True
    assert s.config("runtime.names") == ["a", "b"]
    assert s.config("runtime.when") == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert s.config("runtime.day") == datetime.date(2026, 1, 2)
    # the same values the command prints as JSON (datetimes as text there)
    for path in ["runtime.log_level", "runtime.workers", "runtime.ratio", "runtime.enabled",
                 "runtime.names", "sources.pipedrive"]:
        assert s.config(path) == json.loads(cli_get(project, path, "--config", "--json")), path
    # a table comes from the first provider holding it (secrets.toml here),
    # each of its keys answered as get answers it: a variable overrides one
    assert s.config("sources.pipedrive") == {"api_key": "base-key"}
    project.setenv("SOURCES__PIPEDRIVE__API_KEY", "env-key")
    s = project.open()
    assert s.config("sources.pipedrive") == {"api_key": "env-key"}
    assert s.config("sources.pipedrive") == json.loads(
        cli_get(project, "sources.pipedrive", "--config", "--json")
    )


def test_a_secret_in_config_toml_is_not_a_secret(project):
    project.write(".dlt/config.toml", "[sources.x]\ntoken = \"in-config\"\n")
    s = project.open()
    with pytest.raises(strata.MissingValue) as e:
        s.secret("sources.x.token")
    assert "config.toml" in str(e.value)
    assert s.config("sources.x.token") == "in-config"


def test_missing_values_list_every_provider_and_name_tried(project):
    workspace(project)
    s = project.open()
    with pytest.raises(strata.MissingValue) as e:
        s.secret("sources.nothing.key")
    assert ("environment", "SOURCES__NOTHING__KEY") in e.value.tried
    assert any(p == "secrets.toml" for p, _ in e.value.tried), e.value.tried
    assert isinstance(e.value, strata.Error)
    r = project.cli("get", "sources.nothing.key")
    assert r.returncode == 1
    # the same report as the command's
    assert str(e.value).splitlines()[0] in r.stderr


def test_get_explain_and_export_match_the_cli(project):
    workspace(project)
    s = project.open()
    a = s.get("destination.pg.credentials.password")
    assert a.value == CANARY
    assert a.secret is True
    assert "secrets.toml" in a.provenance and ":" in a.provenance
    assert a.trace and all("provider" in t and "name" in t for t in a.trace)
    for path in ["destination.pg.credentials.password", "sources.nothing.key"]:
        expected = json.loads(project.cli("explain", path, "--json").stdout)
        assert s.explain(path) == expected, path
    def without_datetimes(doc):
        # datetimes are datetime objects here, RFC 3339 text in JSON
        assert isinstance(doc["runtime"].pop("when"), (str, datetime.datetime))
        assert isinstance(doc["runtime"].pop("day"), (str, datetime.date))
        return doc

    assert without_datetimes(s.export()) == without_datetimes(
        json.loads(project.cli("export", "--format", "json").stdout)
    )
    revealed = s.export(reveal=True)
    assert without_datetimes(dict(revealed)) == without_datetimes(
        json.loads(project.cli("export", "--format", "json", "--reveal").stdout)
    )
    assert revealed["destination"]["pg"]["credentials"]["password"] == CANARY
    assert s.export()["destination"]["pg"]["credentials"]["password"] == "***"


def test_no_secret_in_any_repr_exception_or_traceback(project):
    workspace(project)
    s = project.open()
    a = s.get("destination.pg.credentials.password")
    shown = [repr(a), str(a), repr(s), str(s), repr(s.explain("destination.pg.credentials.password")),
             repr(s.export())]
    for text in shown:
        assert CANARY not in text, text
    # errors: a table read as text, a value read as the wrong thing
    for call in (lambda: s.secret("destination.pg.credentials"), lambda: s.secret("nope.nope")):
        try:
            call()
        except strata.Error:
            tb = traceback.format_exc()
            assert CANARY not in tb, tb
        else:
            pytest.fail("no error")


def test_threads_share_one_project(project):
    workspace(project)
    s = project.open()
    errors, results = [], []

    def work(i):
        try:
            for _ in range(50):
                results.append(s.secret("sources.pipedrive.api_key") == "base-key")
                results.append(s.config("runtime.workers") == 4)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 16 * 100 and all(results)


_FORKED = None


def _child(i):
    return _FORKED.secret("sources.pipedrive.api_key")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX")
def test_works_after_fork(project):
    global _FORKED
    workspace(project)
    s = project.open()
    assert s.secret("sources.pipedrive.api_key") == "base-key"
    pid = os.fork()
    if pid == 0:  # the child
        try:
            ok = s.secret("sources.pipedrive.api_key") == "base-key" and s.config("runtime.workers") == 4
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    # a pool of forked workers, as multiprocessing and gunicorn make them
    _FORKED = s
    with multiprocessing.get_context("fork").Pool(4) as pool:
        assert pool.map(_child, range(8)) == ["base-key"] * 8
    # and the parent still works
    assert s.secret("sources.pipedrive.api_key") == "base-key"


def test_the_console_script_is_the_command(project):
    workspace(project)
    r = project.cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("strata ")
    r = project.cli("frobnicate")
    assert r.returncode == 2
    r = project.cli("names", "sources.pipedrive.api_key", "--json")
    assert r.returncode == 0, r.stderr
    assert "SOURCES__PIPEDRIVE__API_KEY" in r.stdout


def test_open_errors_are_strata_errors(project):
    with pytest.raises(strata.Error) as e:
        strata.open(project.root / "does-not-exist")
    assert "does-not-exist" in str(e.value)
    with pytest.raises(strata.Error):
        project.open("prod\u200b")
