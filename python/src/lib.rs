//! `strata_secrets._native`: strata's resolver, vaults and command line for
//! Python ([docs/python.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/python/index.html)). The Python package (`strata_secrets`) wraps it.
//!
//! - One tokio runtime per process runs every lookup; each call releases
//!   the GIL while it waits, so calls from many threads run together and
//!   share the vault cache and its single flight.
//! - After `fork()` the runtime's threads and the vault clients' connections
//!   belong to the parent: the child gets a new runtime, and each `Strata`
//!   opens itself again, on its first call in the child.
//! - No secret reaches a `repr`, an exception or a traceback: values come
//!   back only as return values; errors carry strata's messages, which hold
//!   paths and names, never values.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use strata_secrets::{Error, Lookup, Options, Path, Strata, Table, Value};

create_exception!(
    _native,
    StrataError,
    PyException,
    "An error of strata: its message says what is wrong and what to do, never a value."
);
create_exception!(
    _native,
    MissingValue,
    StrataError,
    "No provider holds the value; `tried` lists every (provider, name) asked."
);

/// The process's runtime, made again in a child after `fork()`.
static RUNTIME: Mutex<Option<(u32, Arc<tokio::runtime::Runtime>)>> = Mutex::new(None);

fn runtime() -> PyResult<Arc<tokio::runtime::Runtime>> {
    let mut guard = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if let Some((owner, rt)) = guard.as_ref()
        && *owner == pid
    {
        return Ok(rt.clone());
    }
    // a runtime inherited through fork() has no threads here: it is left
    // alone (dropping it would wait for threads that do not exist)
    if let Some((_, inherited)) = guard.take() {
        std::mem::forget(inherited);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("strata")
        .enable_all()
        .build()
        .map_err(|e| StrataError::new_err(format!("cannot start the async runtime: {e}")))?;
    let rt = Arc::new(rt);
    *guard = Some((pid, rt.clone()));
    Ok(rt)
}

/// Runs `f` on the runtime with the GIL released.
fn block<T: Send>(
    py: Python<'_>,
    f: impl std::future::Future<Output = Result<T, Error>> + Send,
) -> PyResult<T> {
    let rt = runtime()?;
    py.detach(|| rt.block_on(f)).map_err(to_py_err)
}

/// strata's error as a Python exception: `MissingValue` (with `tried`,
/// every (provider, name) asked) when no provider holds the value, else
/// `Error`.
fn to_py_err(e: Error) -> PyErr {
    let message = e.to_string();
    match e.missing_report() {
        Some(report) => {
            let tried: Vec<(String, String)> = report
                .trace
                .entries
                .iter()
                .map(|t| (t.provider.clone(), t.name.clone()))
                .collect();
            let err = MissingValue::new_err(message);
            Python::attach(|py| {
                let _ = err.value(py).setattr("tried", tried);
                let _ = err.value(py).setattr("path", report.path.clone());
            });
            err
        }
        None => StrataError::new_err(message),
    }
}

/// A value as Python holds it: str, int, float, bool, datetime (date,
/// time), list, dict.
fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Integer(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => f.into_pyobject(py)?.into_any(),
        Value::Boolean(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Datetime(d) => {
            let datetime = py.import("datetime")?;
            let text = d.to_string();
            match (d.date.is_some(), d.time.is_some()) {
                (true, true) => datetime
                    .getattr("datetime")?
                    .call_method1("fromisoformat", (text.replace('Z', "+00:00"),))?,
                (true, false) => datetime
                    .getattr("date")?
                    .call_method1("fromisoformat", (text,))?,
                _ => datetime
                    .getattr("time")?
                    .call_method1("fromisoformat", (text,))?,
            }
        }
        Value::Array(items) => {
            let list = PyList::empty(py);
            for v in items {
                list.append(to_py(py, v)?)?;
            }
            list.into_any()
        }
        Value::Table(table) => table_to_py(py, table)?.into_any(),
    })
}

fn table_to_py<'py>(py: Python<'py>, table: &Table) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in table {
        dict.set_item(k, to_py(py, v)?)?;
    }
    Ok(dict)
}

/// JSON (a report strata built, holding no value) as Python objects.
fn json_to_py<'py>(py: Python<'py>, json: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value as J;
    Ok(match json {
        J::Null => py.None().into_bound(py),
        J::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(f)) => f.into_pyobject(py)?.into_any(),
            _ => n.to_string().into_pyobject(py)?.into_any(),
        },
        J::String(s) => s.into_pyobject(py)?.into_any(),
        J::Array(items) => {
            let list = PyList::empty(py);
            for v in items {
                list.append(json_to_py(py, v)?)?;
            }
            list.into_any()
        }
        J::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// One answer: the value, where it came from, and what was asked.
#[pyclass(module = "strata_secrets", name = "Answer", frozen)]
struct Answer {
    value: Py<PyAny>,
    /// `provider `name` (file:line)`.
    #[pyo3(get)]
    provenance: String,
    /// Every (provider, path, name, outcome) asked, as dicts.
    #[pyo3(get)]
    trace: Py<PyAny>,
    /// Whether the answering provider may hold secrets.
    #[pyo3(get)]
    secret: bool,
}

#[pymethods]
impl Answer {
    /// The value (a secret as plain text: handle it with care).
    #[getter]
    fn value(&self, py: Python<'_>) -> Py<PyAny> {
        self.value.clone_ref(py)
    }

    fn __repr__(&self) -> String {
        format!("Answer(value=***, provenance={:?})", self.provenance)
    }

    fn __str__(&self) -> String {
        self.__repr__()
    }
}

/// What a `Strata` was opened with, to open it again after `fork()`.
#[derive(Clone)]
struct OpenWith {
    workspace: Option<PathBuf>,
    profile: Option<String>,
    global_dir: Option<PathBuf>,
    secrets_dir: Option<PathBuf>,
}

impl OpenWith {
    fn options(&self) -> Options {
        Options {
            run_dir: self.workspace.clone(),
            profile: self.profile.clone(),
            global_dir: self.global_dir.clone(),
            secrets_dir: self.secrets_dir.clone(),
            env: None,
        }
    }
}

/// An opened project: its profile, chain and vaults.
#[pyclass(module = "strata_secrets", name = "Strata", frozen)]
struct PyStrata {
    with: OpenWith,
    /// The pid it was opened in, and the project (`None` once dropped).
    opened: Mutex<(u32, Option<Arc<Strata>>)>,
}

/// The last reference to a `Strata` goes inside the runtime, so that the
/// leases it holds are revoked by a task there ([docs/runtime.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/runtime/index.html)).
impl Drop for PyStrata {
    fn drop(&mut self) {
        let opened = self.opened.get_mut().unwrap_or_else(|p| p.into_inner());
        if opened.0 != std::process::id() {
            // the parent's, with clients of the parent's runtime: left alone
            if let Some(inherited) = opened.1.take() {
                std::mem::forget(inherited);
            }
            return;
        }
        if let Ok(rt) = runtime() {
            let _inside = rt.enter();
            drop(opened.1.take());
        }
    }
}

impl PyStrata {
    /// The opened project; opened again in a child after `fork()`.
    fn strata(&self, py: Python<'_>) -> PyResult<Arc<Strata>> {
        let pid = std::process::id();
        {
            let guard = self.opened.lock().unwrap_or_else(|p| p.into_inner());
            if guard.0 == pid
                && let Some(strata) = &guard.1
            {
                return Ok(strata.clone());
            }
        }
        let options = self.with.options();
        let fresh = Arc::new(block(py, async move { Strata::open(options).await })?);
        let mut guard = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        let inherited = std::mem::replace(&mut *guard, (pid, Some(fresh.clone())));
        // its clients belong to the parent's runtime: left alone
        std::mem::forget(inherited);
        Ok(fresh)
    }
}

fn lookup(secret: bool, pipeline: Option<String>) -> Lookup {
    Lookup { secret, pipeline }
}

#[pymethods]
impl PyStrata {
    /// Revokes the leased credentials this project holds and stops renewing
    /// them (a later lookup leases anew); see [docs/runtime.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/runtime/index.html).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let strata = self.strata(py)?;
        block(py, async move {
            strata.close().await;
            Ok(())
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// The active profile (`None` in a classic project).
    #[getter]
    fn profile(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(self
            .strata(py)?
            .workspace()
            .profile()
            .map(|p| p.to_string()))
    }

    /// The run directory.
    #[getter]
    fn workspace(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.strata(py)?.workspace().run_dir().display().to_string())
    }

    /// The sections of the vaults enabled (`hashicorp_vault`, ...), in chain
    /// order.
    #[getter]
    fn vaults(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        Ok(self
            .strata(py)?
            .vaults()
            .iter()
            .map(|v| v.descriptor.section.to_owned())
            .collect())
    }

    /// A secret as text (exact get over the providers that may hold
    /// secrets, like `dlt.secrets.get`; with `pipeline`, `PIPELINE.path`
    /// first).
    #[pyo3(signature = (path, pipeline=None))]
    fn secret(&self, py: Python<'_>, path: String, pipeline: Option<String>) -> PyResult<String> {
        let strata = self.strata(py)?;
        let resolved = block(py, async move {
            strata.get(&path, &lookup(true, pipeline)).await
        })?;
        match resolved.expose() {
            Value::Table(_) | Value::Array(_) => Err(StrataError::new_err(format!(
                "`{}` is a {}, not a text secret: use get()",
                resolved.path(),
                resolved.expose().kind()
            ))),
            v => Ok(v.to_text()),
        }
    }

    /// A value from any provider, as Python holds it (like
    /// `dlt.config.get`).
    #[pyo3(signature = (path, pipeline=None))]
    fn config<'py>(
        &self,
        py: Python<'py>,
        path: String,
        pipeline: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let answer = self.get(py, path, pipeline, true)?;
        Ok(answer.value.into_bound(py))
    }

    /// The answer for `path`: its value, provenance and trace. A table is
    /// answered key by key, as `strata get` answers it.
    #[pyo3(signature = (path, pipeline=None, config=false))]
    fn get(
        &self,
        py: Python<'_>,
        path: String,
        pipeline: Option<String>,
        config: bool,
    ) -> PyResult<Answer> {
        let strata = self.strata(py)?;
        let (value, provenance, trace, secret) = block(py, async move {
            let lookup = lookup(!config, pipeline);
            let resolved = strata.get(&path, &lookup).await?;
            let value = if matches!(resolved.expose(), Value::Table(_)) {
                let base = Path::parse(&path)?;
                strata_secrets_cli::answers::table(&strata, &base, &lookup, &resolved).await?
            } else {
                resolved.expose().clone()
            };
            Ok((
                value,
                resolved.provenance().to_string(),
                strata_secrets_cli::answers::trace_json(resolved.trace()),
                resolved.from_secret_provider(),
            ))
        })?;
        Ok(Answer {
            value: to_py(py, &value)?.unbind(),
            provenance,
            trace: json_to_py(py, &trace)?.unbind(),
            secret,
        })
    }

    /// The trace of a section walk for `path`, values masked: what
    /// `strata explain --json` prints.
    #[pyo3(signature = (path, pipeline=None, config=false))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        path: String,
        pipeline: Option<String>,
        config: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let strata = self.strata(py)?;
        let json = block(py, async move {
            let lookup = lookup(!config, pipeline);
            let profile = strata.workspace().profile().map(|p| p.to_string());
            match strata.walk(&path, &lookup).await {
                Ok(r) => Ok(strata_secrets_cli::answers::explained_json(
                    &path,
                    &lookup,
                    profile.as_deref(),
                    Ok(&r),
                )),
                Err(e) => match e.missing_report() {
                    Some(report) => Ok(strata_secrets_cli::answers::explained_json(
                        &path,
                        &lookup,
                        profile.as_deref(),
                        Err(report),
                    )),
                    None => Err(e),
                },
            }
        })?;
        json_to_py(py, &json)
    }

    /// The resolved document (`strata export`): every key of the profile's
    /// files and the vaults' documents as `get` answers it; secrets masked
    /// unless `reveal`.
    #[pyo3(signature = (reveal=false))]
    fn export<'py>(&self, py: Python<'py>, reveal: bool) -> PyResult<Bound<'py, PyAny>> {
        let strata = self.strata(py)?;
        let table = block(py, async move {
            strata_secrets_cli::answers::export(&strata, reveal).await
        })?;
        to_py(py, &table)
    }

    /// dlt's provider call: the value at exactly `segments` (`[pipeline,]
    /// sections..., key`) from the vaults only, or from the whole chain; with
    /// the name the answering provider gave it and its location. `None`
    /// when nothing holds it.
    #[pyo3(signature = (segments, secret, vaults_only))]
    fn _lookup<'py>(
        &self,
        py: Python<'py>,
        segments: Vec<String>,
        secret: bool,
        vaults_only: bool,
    ) -> PyResult<Option<(Bound<'py, PyAny>, String, String)>> {
        let strata = self.strata(py)?;
        let found = block(py, async move {
            let path = Path::from_segments(segments)?;
            let lookup = lookup(secret, None);
            let result = if vaults_only {
                strata.vault_resolver().get(&path, &lookup).await
            } else {
                strata.resolver().get(&path, &lookup).await
            };
            match result {
                Ok(r) => {
                    let p = r.provenance();
                    let location = match (&p.file, p.line) {
                        (Some(f), Some(l)) => format!("{}:{l}", f.display()),
                        (Some(f), None) => f.display().to_string(),
                        _ => p.provider.clone(),
                    };
                    Ok(Some((r.expose().clone(), p.name.clone(), location)))
                }
                Err(e) if e.is_missing() => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        match found {
            Some((value, name, location)) => Ok(Some((to_py(py, &value)?, name, location))),
            None => Ok(None),
        }
    }

    /// How each provider names `segments` (for dlt's traces when nothing
    /// answers): (provider, name) pairs.
    #[pyo3(signature = (segments, vaults_only))]
    fn _names(
        &self,
        py: Python<'_>,
        segments: Vec<String>,
        vaults_only: bool,
    ) -> PyResult<Vec<(String, String)>> {
        let strata = self.strata(py)?;
        let path = Path::from_segments(segments).map_err(|e| to_py_err(e.into()))?;
        let resolver = if vaults_only {
            strata.vault_resolver()
        } else {
            strata.resolver().clone()
        };
        Ok(resolver
            .providers()
            .iter()
            .map(|p| {
                (
                    p.name().to_owned(),
                    p.native_name(&path).unwrap_or_default(),
                )
            })
            .collect())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let strata = self.strata(py)?;
        Ok(format!(
            "Strata(workspace={:?}, profile={:?}, vaults={:?})",
            strata.workspace().run_dir().display().to_string(),
            strata.workspace().profile().map(|p| p.to_string()),
            strata
                .vaults()
                .iter()
                .map(|v| v.descriptor.section)
                .collect::<Vec<_>>()
        ))
    }
}

/// Opens the project at `workspace` (default: `DLT_PROJECT_DIR`, else the
/// current directory) with `profile` (default: `WORKSPACE__PROFILE`, the
/// pin, `dev`), its vaults as the bootstrap enables them.
#[pyfunction]
#[pyo3(signature = (workspace=None, profile=None, global_dir=None, secrets_dir=None))]
fn open(
    py: Python<'_>,
    workspace: Option<PathBuf>,
    profile: Option<String>,
    global_dir: Option<PathBuf>,
    secrets_dir: Option<PathBuf>,
) -> PyResult<PyStrata> {
    let with = OpenWith {
        workspace,
        profile,
        global_dir,
        secrets_dir,
    };
    let options = with.options();
    let strata = block(py, async move { Strata::open(options).await })?;
    Ok(PyStrata {
        with,
        opened: Mutex::new((std::process::id(), Some(Arc::new(strata)))),
    })
}

/// Runs the `strata` command on `argv` in this process; its exit status.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| {
        let code = strata_secrets_cli::run(argv);
        // ExitCode hides its number: the command's codes are 0, 1, 2 and,
        // for exec, the child's (exec replaces this process)
        exit_number(code)
    })
}

fn exit_number(code: std::process::ExitCode) -> u8 {
    for n in 0..=255u8 {
        if std::process::ExitCode::from(n) == code {
            return n;
        }
    }
    2
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("StrataError", m.py().get_type::<StrataError>())?;
    m.add("MissingValue", m.py().get_type::<MissingValue>())?;
    m.add_class::<PyStrata>()?;
    m.add_class::<Answer>()?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    Ok(())
}
