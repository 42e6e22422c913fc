//! Service victims (issue 14): a user's server, started in the victim's
//! sandbox, driven open loop by `drive-service` from a cgroup of its own, in
//! the server's network namespace when the condition has one. Suites come
//! from TOML text through the suite checker, as `isobench run` reads them.
//! Root only: they create cgroups and namespaces.

mod common;

use isobench_reports::schema::{Condition, ConditionRun, ScenarioResult, ScenarioStatus};
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::time::Duration;

/// A port of 127.0.0.1 that nothing listens on now.
fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    l.local_addr().unwrap().port()
}

/// One isolation scenario, `conditions`, whose victim table is `victim` and
/// whose aggressor is a `cpu-hog` held to 0.2 CPU when isolated; one round of
/// 0.2 s warm-up and a 0.5 s window.
fn suite_text(victim: &str, conditions: &str) -> String {
    format!(
        r#"[defaults]
rounds = 1
duration = 0.5
warmup = 0.2

[[scenario]]
name = "service"
kind = "isolation"
conditions = {conditions}

[scenario.victim]
{victim}

[[scenario.aggressor]]
workload = "cpu-hog"
[scenario.aggressor.limits.cgroup]
"cpu.max" = "20000 100000"
"#
    )
}

/// [`common::run_suite`] as a tuple: the result, the wall time, the arena's run id.
fn run_suite(text: &str, test: &str) -> (ScenarioResult, Duration, String) {
    let run = common::run_suite(text, test);
    (run.result, run.wall, run.id)
}

/// The run of condition `c` in round 0.
fn condition(result: &ScenarioResult, c: Condition) -> &ConditionRun {
    result.rounds[0]
        .conditions
        .iter()
        .find(|r| r.condition == c)
        .unwrap_or_else(|| panic!("no {c} condition in {result:?}"))
}

/// Asserts that every condition is valid and measured about `rate` × 0.5 s
/// requests with sane latencies (under the driver's 5 s reply timeout: a
/// contended python server whose accept queue overflows makes some requests
/// wait for TCP to resend their SYN, 1 s); prints p50/p99 per condition.
fn assert_measured(result: &ScenarioResult, rate: f64, what: &str) {
    assert_eq!(result.status, ScenarioStatus::Complete, "{result:?}");
    for c in Condition::ALL {
        let run = condition(result, c);
        assert_eq!(run.invalid, None, "{c}: {run:?}");
        let v = run.victim.as_ref().expect("a victim report");
        let due = rate * 0.5;
        assert!(
            v.ops as f64 >= 0.6 * due && v.ops as f64 <= due + 1.0,
            "{c}: {} ops of {due} due",
            v.ops
        );
        assert!(
            v.latency_p50_us > 0.0
                && v.latency_p50_us <= v.latency_p99_us
                && v.latency_p99_us < 5e6,
            "{c}: {v:?}"
        );
        eprintln!(
            "{what} {c}: {} ops, p50 {:.0} µs, p99 {:.0} µs, p99.9 {:.0} µs, victim CPU {:.3}",
            v.ops, v.latency_p50_us, v.latency_p99_us, v.latency_p999_us, run.victim_cpu.cpu_share
        );
    }
}

/// The reason condition `c` is invalid; panics when it is valid.
fn invalid(result: &ScenarioResult, c: Condition) -> String {
    condition(result, c)
        .invalid
        .clone()
        .unwrap_or_else(|| panic!("{c} is valid: {result:?}"))
}

/// Writes `script` as a Python file in `dir`; returns its path.
fn script(dir: &Path, name: &str, script: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    path.display().to_string()
}

#[test]
fn python_http_server_is_driven_open_loop_in_every_condition() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>hello</p>\n").unwrap();
    let port = free_port();
    let victim = format!(
        r#"command = ["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
cwd = "{}"
mode = "service"
rate = 200
service = {{ port = {port}, protocol = "http", path = "/index.html" }}"#,
        dir.path().display()
    );
    let (result, _, _) = run_suite(
        &suite_text(&victim, r#"["solo", "contended", "isolated"]"#),
        "http",
    );
    assert_measured(&result, 200.0, "http.server");
}

#[test]
fn raw_tcp_echo_server_is_driven_open_loop_in_every_condition() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let echo = script(
        dir.path(),
        "echo.py",
        r#"import socketserver, sys
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
"#,
    );
    let port = free_port();
    let victim = format!(
        r#"command = ["python3", "{echo}", "{port}"]
mode = "service"
rate = 400
service = {{ port = {port}, protocol = "tcp", send = "ping\n", reply_until = "\n" }}"#
    );
    let (result, _, _) = run_suite(
        &suite_text(&victim, r#"["solo", "contended", "isolated"]"#),
        "echo",
    );
    assert_measured(&result, 400.0, "tcp echo");
}

#[test]
fn a_service_that_never_listens_makes_the_condition_invalid_within_its_ready_timeout() {
    require_root!();
    let port = free_port();
    let victim = format!(
        r#"command = ["sleep", "30"]
mode = "service"
rate = 100
service = {{ port = {port}, protocol = "http", ready_timeout = 0.5 }}"#
    );
    let (result, wall, _) = run_suite(&suite_text(&victim, r#"["solo", "isolated"]"#), "deaf");
    assert_eq!(result.status, ScenarioStatus::Complete, "{result:?}");
    for c in [Condition::Solo, Condition::Isolated] {
        let why = invalid(&result, c);
        assert!(
            why.starts_with(&format!(
                "the victim measured nothing worth reading: the service never listened on 127.0.0.1:{port} within 0.5 s"
            )),
            "{c}: {why}"
        );
    }
    // Two conditions of 0.5 s waiting, 0.7 s of window and 1 s of SIGTERM grace at most.
    assert!(wall < Duration::from_secs(8), "{wall:?}");
}

#[test]
fn a_service_answering_garbage_makes_the_condition_invalid_with_the_reply() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let garbage = script(
        dir.path(),
        "garbage.py",
        r#"import socketserver, sys
class Garbage(socketserver.BaseRequestHandler):
    def handle(self):
        while self.request.recv(4096):
            self.request.sendall(b"hello\n")
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), Garbage).serve_forever()
"#,
    );
    let port = free_port();
    let victim = format!(
        r#"command = ["python3", "{garbage}", "{port}"]
mode = "service"
rate = 100
service = {{ port = {port}, protocol = "http" }}"#
    );
    let (result, wall, _) = run_suite(&suite_text(&victim, r#"["solo", "isolated"]"#), "garbage");
    for c in [Condition::Solo, Condition::Isolated] {
        let why = invalid(&result, c);
        assert!(
            why.contains(
                "request 1 (in the warm-up): the reply is not HTTP/1.x (no status line); it began \"hello\\n\""
            ),
            "{c}: {why}"
        );
    }
    assert!(wall < Duration::from_secs(8), "{wall:?}");
}

#[test]
fn a_service_that_exits_during_the_window_makes_the_condition_invalid_with_how_it_ended() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let quitter = script(
        dir.path(),
        "quitter.py",
        r#"import http.server, os, sys, threading
def quit():
    print("giving up now", file=sys.stderr, flush=True)
    os._exit(3)
threading.Timer(0.4, quit).start()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"#,
    );
    let port = free_port();
    let victim = format!(
        r#"command = ["python3", "{quitter}", "{port}"]
cwd = "{}"
mode = "service"
rate = 100
service = {{ port = {port}, protocol = "http" }}"#,
        dir.path().display()
    );
    let (result, _, _) = run_suite(&suite_text(&victim, r#"["solo", "isolated"]"#), "quitter");
    for c in [Condition::Solo, Condition::Isolated] {
        let why = invalid(&result, c);
        assert!(
            why.starts_with("the victim measured nothing worth reading: the service exited with status 3 before the window's end; its output ended: ")
                && why.contains("giving up now"),
            "{c}: {why}"
        );
    }
}

#[test]
fn a_service_that_ignores_sigterm_and_forks_leaves_nothing_behind() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let stubborn = script(
        dir.path(),
        "stubborn.py",
        r#"import http.server, os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    while True:
        time.sleep(1)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"#,
    );
    let marker = format!("isobench-stubborn-{}", std::process::id());
    let port = free_port();
    let victim = format!(
        r#"command = ["python3", "{stubborn}", "{port}", "{marker}"]
cwd = "{}"
mode = "service"
rate = 100
service = {{ port = {port}, protocol = "http" }}"#,
        dir.path().display()
    );
    let (result, wall, _) = run_suite(
        &suite_text(&victim, r#"["solo", "contended", "isolated"]"#),
        "stubborn",
    );
    // Its cgroups went with the arena (checked by `run_suite`); its processes too.
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            String::from_utf8_lossy(&cmdline)
                .contains(&marker)
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    assert!(left.is_empty(), "processes left: {left:?}");
    assert_measured(&result, 100.0, "stubborn http.server");
    // Each condition waited out the SIGTERM grace once.
    assert!(wall < Duration::from_secs(12), "{wall:?}");
}

#[test]
fn a_service_that_exits_before_it_listens_says_so_with_its_output() {
    require_root!();
    let port = free_port();
    let victim = format!(
        r#"command = ["python3", "-c", "import sys; print('no config file', file=sys.stderr); sys.exit(4)"]
mode = "service"
rate = 100
service = {{ port = {port}, protocol = "http" }}"#
    );
    let (result, wall, _) = run_suite(&suite_text(&victim, r#"["solo", "isolated"]"#), "early");
    for c in [Condition::Solo, Condition::Isolated] {
        let why = invalid(&result, c);
        assert_eq!(
            why,
            format!(
                "the victim measured nothing worth reading: the service exited with status 4 \
                 before it listened on 127.0.0.1:{port}; its output ended: \"no config file\""
            ),
            "{c}"
        );
    }
    // Not the 10 s ready timeout: the harness saw it end.
    assert!(wall < Duration::from_secs(6), "{wall:?}");
}

#[test]
fn a_port_already_taken_on_the_host_is_refused_before_the_service_starts() {
    require_root!();
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let victim = format!(
        r#"command = ["sleep", "30"]
mode = "service"
rate = 100
service = {{ port = {port}, protocol = "http" }}"#
    );
    let (result, _, _) = run_suite(&suite_text(&victim, r#"["solo"]"#), "taken");
    let ScenarioStatus::Failed(why) = &result.status else {
        panic!("{result:?}");
    };
    assert!(
        why.contains(&format!(
            "127.0.0.1:{port} already accepts connections before the service victim has started"
        )),
        "{why}"
    );
}
