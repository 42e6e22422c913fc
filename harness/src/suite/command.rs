//! Commands of the user's in suite files: `command = [...]` with `env` and
//! `cwd` for a victim or an aggressor, and a command victim's `mode` with its
//! `service` or `format`. The program is looked up at `suite check`, so a
//! command that cannot start is refused before anything runs.

use super::error::Problems;
use super::model::{
    COMMAND_MODES, CommandDef, CommandMode, ReportFormat, ServiceDef, ServiceProtocol, TcpReply,
};
use super::reader::Table;
use std::path::{Path, PathBuf};

/// Keys a table with `command` may have besides its role's own.
pub const COMMAND_KEYS: [&str; 3] = ["command", "env", "cwd"];
/// Keys of a command victim's measurement.
pub const VICTIM_MODE_KEYS: [&str; 3] = ["mode", "service", "format"];

/// Longest wait for a service's port, s.
pub const MAX_READY_S: f64 = 600.0;
/// Wait for a service's port when the suite gives none, s.
pub const DEFAULT_READY_S: f64 = 10.0;

/// Reads `command`, `env` and `cwd` of `t` (role `victim` or `aggressor`) and
/// finds the program.
///
/// Returns `None` when a problem was reported.
pub fn read(t: Table<'_, '_>, role: &str, p: &mut Problems) -> Option<CommandDef> {
    let field = format!("scenario.{role}.command");
    let f = t.get("command")?;
    let argv: Vec<String> = t
        .strings("command", p)?
        .into_iter()
        .map(|(s, _)| s.to_string())
        .collect();
    let Some(first) = argv.first() else {
        p.at(
            f.span,
            &field,
            "an empty command: expected the program and its arguments, e.g. [\"stress-ng\", \"--cpu\", \"1\"]",
        );
        return None;
    };
    if argv.iter().any(|a| a.contains('\0')) {
        p.at(
            f.span,
            &field,
            "an argument holds a NUL byte, which no program can receive",
        );
        return None;
    }
    let env = read_env(t, role, p)?;
    let cwd = match t.str("cwd", p) {
        Some((dir, span)) if !Path::new(dir).is_dir() => {
            p.at(
                span,
                &format!("scenario.{role}.cwd"),
                format!("{dir:?} is not a directory: expected an existing directory to run the command in"),
            );
            return None;
        }
        Some((dir, _)) => Some(PathBuf::from(dir)),
        None if t.get("cwd").is_some() => return None,
        None => None,
    };
    match find_with_env(first, cwd.as_deref(), &env) {
        Ok(program) => Some(CommandDef {
            argv,
            program,
            env,
            cwd,
        }),
        Err(why) => {
            p.at(f.span, &field, why);
            None
        }
    }
}

/// `env = { NAME = "value" }`: names without `=` or NUL, string values.
fn read_env(t: Table<'_, '_>, role: &str, p: &mut Problems) -> Option<Vec<(String, String)>> {
    let path = format!("scenario.{role}.env");
    let Some(f) = t.get("env") else {
        return Some(Vec::new());
    };
    let Some(table) = f.value.as_table() else {
        p.wrong_type(
            f,
            &path,
            "a table of strings, e.g. env = { RUST_LOG = \"info\" }",
        );
        return None;
    };
    let table = Table::new(table, "", f.span);
    let mut out = Vec::new();
    let mut ok = true;
    for (key, value) in table.entries() {
        let name: &str = key.get_ref();
        let field = format!("{path}.{name}");
        if name.is_empty() || name.contains(['=', '\0']) {
            p.at(
                key.span(),
                &field,
                "not a variable name: expected a name without `=` or NUL",
            );
            ok = false;
        }
        match value.value.as_str() {
            Some(v) if !v.contains('\0') => out.push((name.to_string(), v.to_string())),
            Some(_) => {
                p.at(value.span, &field, "the value holds a NUL byte");
                ok = false;
            }
            None => {
                p.wrong_type(value, &field, "a string");
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// [`find_program`] on the PATH the command will have: `env`'s `PATH` when it
/// sets one, else isobench's own.
///
/// # Errors
/// As [`find_program`].
pub fn find_with_env(
    name: &str,
    cwd: Option<&Path>,
    env: &[(String, String)],
) -> Result<PathBuf, String> {
    let path_var = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_default();
    find_program(name, cwd, &path_var)
}

/// A sandbox name made from a program's or applet's name: its file name,
/// lower case, `-` for what a name may not hold, a leading letter, at most 64
/// characters (`/usr/bin/stress-ng` → `stress-ng`, `7z` → `cmd-7z`).
pub fn sandbox_name(label: &str) -> String {
    let base = label.rsplit('/').next().unwrap_or(label);
    let mut name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "cmd-");
    }
    name
}

/// The program `name` stands for: a path when it has a `/` (relative to `cwd`
/// when given), else the first executable file of that name on `path_var`.
///
/// # Errors
/// What is wrong, naming the path or the directories searched.
pub fn find_program(name: &str, cwd: Option<&Path>, path_var: &str) -> Result<PathBuf, String> {
    if name.contains('/') {
        let path = match cwd {
            Some(dir) if !name.starts_with('/') => dir.join(name),
            _ => PathBuf::from(name),
        };
        return match executable(&path) {
            Ok(()) => Ok(path),
            Err(why) => Err(format!("{}: {why}", path.display())),
        };
    }
    let dirs: Vec<&str> = path_var.split(':').filter(|d| !d.is_empty()).collect();
    for dir in &dirs {
        let path = Path::new(dir).join(name);
        if executable(&path).is_ok() {
            return Ok(path);
        }
    }
    Err(format!(
        "program {name:?} not found: searched PATH {}; install it or give its full path",
        dirs.join(":")
    ))
}

/// Ok when `path` is a regular file with an execute bit.
fn executable(path: &Path) -> Result<(), &'static str> {
    use std::os::unix::fs::PermissionsExt;
    let meta = path.metadata().map_err(|_| "no such file")?;
    if !meta.is_file() {
        return Err("not a regular file");
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err("not executable (no x permission)");
    }
    Ok(())
}

/// A command victim's `mode` (default `runs`) and what it needs: `service` for
/// a service, `format` for reports. Returns `None` when a problem was reported.
pub fn read_mode(v: Table<'_, '_>, p: &mut Problems) -> Option<CommandMode> {
    let mode = match v.str("mode", p) {
        None if v.get("mode").is_some() => return None,
        None => "runs",
        Some((m, span)) if !COMMAND_MODES.contains(&m) => {
            p.at(
                span,
                "scenario.victim.mode",
                format!(
                    "{m:?} is not a mode: expected one of {}",
                    COMMAND_MODES.join(", ")
                ),
            );
            return None;
        }
        Some((m, _)) => m,
    };
    let stray = |key: &str, p: &mut Problems| {
        if let Some(f) = v.get(key) {
            p.at(
                f.span,
                &format!("scenario.victim.{key}"),
                format!(
                    "`{key}` is for mode = \"{}\" only; this victim's mode is {mode:?}",
                    if key == "service" {
                        "service"
                    } else {
                        "reports"
                    }
                ),
            );
        }
    };
    match mode {
        "runs" => {
            stray("service", p);
            stray("format", p);
            Some(CommandMode::Runs)
        }
        "service" => {
            stray("format", p);
            let Some(s) = v.table("service", "scenario.victim.service", p) else {
                if v.get("service").is_none() {
                    p.at(
                        v.span(),
                        "scenario.victim.service",
                        "missing: a service victim needs service = { port = 8080, protocol = \"http\" } (or protocol = \"tcp\" with send and reply_bytes or reply_until)",
                    );
                }
                return None;
            };
            read_service(s, p).map(CommandMode::Service)
        }
        _ => {
            stray("service", p);
            let format = match v.str("format", p) {
                None if v.get("format").is_some() => return None,
                None | Some(("lines", _)) => ReportFormat::Lines,
                Some(("json", _)) => ReportFormat::Json,
                Some((f, span)) => {
                    p.at(
                        span,
                        "scenario.victim.format",
                        format!("{f:?} is not a report format: expected \"lines\" (one latency in µs per line) or \"json\" (one summary at exit)"),
                    );
                    return None;
                }
            };
            Some(CommandMode::Reports(format))
        }
    }
}

/// `service = { port, protocol, path | send + reply_bytes | reply_until, ready_timeout }`.
fn read_service(s: Table<'_, '_>, p: &mut Problems) -> Option<ServiceDef> {
    s.only(
        &[
            "port",
            "protocol",
            "path",
            "send",
            "reply_bytes",
            "reply_until",
            "ready_timeout",
        ],
        p,
    );
    let port = s.integer("port", 1..=65535, p);
    if s.get("port").is_none() {
        p.at(
            s.span(),
            "scenario.victim.service.port",
            "missing: expected the TCP port the service listens on, 1 to 65535",
        );
    }
    let ready_timeout_s = s
        .number("ready_timeout", 0.1..=MAX_READY_S, "seconds", p)
        .unwrap_or(DEFAULT_READY_S);
    let (protocol, span) = s.required_str("protocol", p, "\"http\" or \"tcp\"")?;
    let only_for = |key: &str, proto: &str, p: &mut Problems| {
        if let Some(f) = s.get(key) {
            p.at(
                f.span,
                &format!("scenario.victim.service.{key}"),
                format!("`{key}` is for protocol = \"{proto}\" only"),
            );
        }
    };
    let protocol = match protocol {
        "http" => {
            for key in ["send", "reply_bytes", "reply_until"] {
                only_for(key, "tcp", p);
            }
            let path = match s.str("path", p) {
                Some((path, _))
                    if path.starts_with('/')
                        && !path.contains(|c: char| c.is_whitespace() || c.is_control()) =>
                {
                    path.to_string()
                }
                Some((path, span)) => {
                    p.at(span, "scenario.victim.service.path", format!("{path:?} is not a request target: expected a path starting with / and without spaces, e.g. \"/health\""));
                    return None;
                }
                None if s.get("path").is_some() => return None,
                None => "/".to_string(),
            };
            ServiceProtocol::Http { path }
        }
        "tcp" => {
            only_for("path", "http", p);
            let (send, send_span) = s.required_str(
                "send",
                p,
                "the bytes of one request, e.g. send = \"ping\\n\"",
            )?;
            if send.is_empty() {
                p.at(
                    send_span,
                    "scenario.victim.service.send",
                    "empty: a request must send at least one byte",
                );
                return None;
            }
            let bytes = s.integer("reply_bytes", 1..=(1 << 20), p);
            let until = s.str("reply_until", p);
            let reply = match (bytes, until) {
                (Some(n), None) => TcpReply::Bytes(n),
                (None, Some((d, _))) if !d.is_empty() => TcpReply::Until(d.to_string()),
                (None, Some((_, span))) => {
                    p.at(
                        span,
                        "scenario.victim.service.reply_until",
                        "empty: expected the delimiter that ends a reply, e.g. \"\\n\"",
                    );
                    return None;
                }
                (Some(_), Some((_, span))) => {
                    p.at(
                        span,
                        "scenario.victim.service.reply_until",
                        "give either reply_bytes or reply_until, not both",
                    );
                    return None;
                }
                (None, None) => {
                    if s.get("reply_bytes").is_none() && s.get("reply_until").is_none() {
                        p.at(s.span(), "scenario.victim.service.reply_bytes", "missing: expected how a reply ends, reply_bytes = N or reply_until = \"\\n\"");
                    }
                    return None;
                }
            };
            ServiceProtocol::Tcp {
                send: send.to_string(),
                reply,
            }
        }
        other => {
            p.at(span, "scenario.victim.service.protocol", format!("{other:?} is not a protocol: expected \"http\" (GET over HTTP/1.1) or \"tcp\" (raw bytes)"));
            return None;
        }
    };
    Some(ServiceDef {
        port: port? as u16,
        protocol,
        ready_timeout_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_is_found_on_path_and_a_missing_one_names_the_search() {
        assert_eq!(
            find_program("sh", None, "/nonexistent:/bin:/usr/bin")
                .unwrap()
                .file_name()
                .unwrap(),
            "sh"
        );
        let err = find_program("no-such-program-xyz", None, "/a:/b").unwrap_err();
        assert!(
            err.contains("\"no-such-program-xyz\" not found") && err.contains("PATH /a:/b"),
            "{err}"
        );
    }

    #[test]
    fn a_path_that_is_not_executable_says_why() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("script");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        let err = find_program(f.to_str().unwrap(), None, "").unwrap_err();
        assert!(err.contains("not executable"), "{err}");
        let err = find_program("./script", Some(d.path()), "").unwrap_err();
        assert!(
            err.starts_with(&d.path().join("./script").display().to_string()),
            "{err}"
        );
        assert!(
            find_program("/", None, "")
                .unwrap_err()
                .contains("not a regular file")
        );
    }
}
