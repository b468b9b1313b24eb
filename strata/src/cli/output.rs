//! What a command prints: collected while it runs, then written to stdout
//! at once. A write that fails (a closed pipe, a full disk) is exit 2 and
//! never a panic; a closed pipe exits quietly, any other failure says so on
//! stderr. Nothing here panics on a closed stderr either.

use serde_json::json;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use strata_secrets::Value;

/// The command's standard output, written when it is done.
#[derive(Default)]
pub(crate) struct Out {
    text: String,
}

impl Out {
    /// One line.
    pub(crate) fn line(&mut self, line: impl std::fmt::Display) {
        let _ = writeln!(self.text, "{line}");
    }

    /// Text as it is (a value printed raw).
    pub(crate) fn raw(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// A JSON document, pretty-printed, and a newline.
    pub(crate) fn json(&mut self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        self.line(text);
    }

    /// Writes everything to stdout: `Err` is the exit code of a failed
    /// write.
    pub(crate) fn flush(&mut self) -> Result<(), ExitCode> {
        let text = std::mem::take(&mut self.text);
        if text.is_empty() {
            return Ok(());
        }
        let mut stdout = std::io::stdout().lock();
        let written = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush());
        match written {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(ExitCode::from(2)),
            Err(e) => {
                error_line(&format!("error: cannot write the output: {e}"));
                Err(ExitCode::from(2))
            }
        }
    }
}

/// One line on stderr; a failure to write it is ignored (there is nowhere
/// left to report it).
pub(crate) fn error_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// Warnings a command met (a denied vault secret), on stderr, each once,
/// whatever the command: nothing is ever resolved silently.
pub(crate) fn warnings(warnings: &[String]) {
    for w in warnings {
        error_line(&format!("warning: {w}"));
    }
}

/// The error, on stderr: text, or `{"error": {...}}` with `--json`.
pub(crate) fn report_error(e: &strata_secrets::Error, json: bool) {
    if json {
        let report = json!({
            "error": {
                "kind": e.kind().as_str(),
                "message": e.to_string(),
                "provider": e.provider(),
                "path": e.path(),
                "file": e.file().map(|f| f.display().to_string()),
            }
        });
        error_line(&report.to_string());
    } else {
        error_line(&format!("error: {}", e.to_string().trim_end()));
    }
}

/// A value as `get` prints it: a string raw, a table as TOML, anything
/// else as its text and a newline.
pub(crate) fn print_value(out: &mut Out, value: &Value, json: bool) {
    if json {
        out.line(value.to_json());
        return;
    }
    match value {
        Value::String(s) => out.raw(s),
        Value::Table(_) => {
            out.raw(&toml::to_string(&value.to_toml()).unwrap_or_else(|_| value.to_text()))
        }
        other => out.line(other.to_text()),
    }
}
