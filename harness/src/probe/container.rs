//! Does the harness run in a container, and under which runtime? Read from the
//! signs runtimes leave (issue 18), each kept as evidence in the fingerprint:
//!
//! - `/run/.containerenv`: podman and CRI-O create it in every container; podman
//!   writes `engine="podman-VERSION"` in it when the container is privileged
//!   (podman-run(1), "--privileged"; containers/podman `pkg/specgen`).
//! - `$container` of this process and of PID 1 (`container=podman`, `lxc`,
//!   `systemd-nspawn`, `oci`): the convention of systemd's CONTAINER_INTERFACE
//!   (systemd.io/CONTAINER_INTERFACE). With `--pid=host` PID 1 is the host's
//!   init, so this process's own environment is read first.
//! - `/.dockerenv`: Docker creates it, but it survives in root filesystems made
//!   from Docker images (as on isobench's own development VM, whose `/` is not an
//!   overlay). It is trusted only where `/` is an overlay mount.
//! - `/proc/self/cgroup`: with the host's cgroup namespace (`--cgroupns=host`,
//!   Kubernetes' hostPID pods) the path names the runtime's scope:
//!   `libpod-ID` (podman), `docker-ID` or `/docker/ID` (Docker),
//!   `cri-containerd-ID` (containerd), `crio-ID` (CRI-O), and `kubepods`
//!   (the kubelet's cgroup tree).
//! - `$KUBERNETES_SERVICE_HOST`: the kubelet sets it in every pod's containers
//!   (kubernetes.io/docs/concepts/services-networking/service, "Environment variables").

use isobench_reports::schema::{Environment, EnvironmentKind};
use std::path::Path;

/// The raw signs, read from one root and one environment; what [`classify`] judges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signs {
    /// `$container` of this process.
    pub env_container: Option<String>,
    /// `container=` in `/proc/1/environ`; `None` where unreadable or absent.
    pub pid1_container: Option<String>,
    /// Content of `/run/.containerenv`, where the file exists (it may be empty).
    pub containerenv: Option<String>,
    /// `/.dockerenv` exists.
    pub dockerenv: bool,
    /// Filesystem type of the mount on `/` in `/proc/self/mountinfo` (its last
    /// entry for `/`, the one in effect), e.g. `overlay`, `ext4`.
    pub root_fs_type: Option<String>,
    /// Text of `/proc/self/cgroup`.
    pub self_cgroup: String,
    /// `$KUBERNETES_SERVICE_HOST`.
    pub kubernetes_service_host: Option<String>,
}

impl Signs {
    /// Reads the signs beneath `root` (`/` on a real host; a directory laid out
    /// like one in tests) with `env` standing for this process's environment.
    /// A sign that cannot be read is absent.
    pub fn read(root: &Path, env: impl Fn(&str) -> Option<String>) -> Signs {
        let read = |rel: &str| std::fs::read_to_string(root.join(rel)).ok();
        let pid1_container = std::fs::read(root.join("proc/1/environ"))
            .ok()
            .and_then(|bytes| {
                bytes
                    .split(|&b| b == 0)
                    .find_map(|kv| kv.strip_prefix(b"container="))
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            });
        Signs {
            env_container: env("container").filter(|v| !v.is_empty()),
            pid1_container: pid1_container.filter(|v| !v.is_empty()),
            containerenv: read("run/.containerenv"),
            dockerenv: root.join(".dockerenv").exists(),
            root_fs_type: read("proc/self/mountinfo").and_then(|m| root_fs_type(&m)),
            self_cgroup: read("proc/self/cgroup").unwrap_or_default(),
            kubernetes_service_host: env("KUBERNETES_SERVICE_HOST").filter(|v| !v.is_empty()),
        }
    }
}

/// The filesystem type of the mount on `/` in mountinfo text (proc(5),
/// /proc/PID/mountinfo: field 5 is the mount point, the type follows ` - `);
/// the last such line is the one in effect.
fn root_fs_type(mountinfo: &str) -> Option<String> {
    mountinfo
        .lines()
        .filter(|l| l.split_whitespace().nth(4) == Some("/"))
        .filter_map(|l| l.split_once(" - ")?.1.split_whitespace().next())
        .next_back()
        .map(str::to_owned)
}

/// The runtime a `/proc/self/cgroup` path names, if any (see the module docs).
fn runtime_in_cgroup(path: &str) -> Option<&'static str> {
    [
        ("libpod-", "podman"),
        ("libpod_", "podman"),
        ("cri-containerd-", "containerd"),
        ("crio-", "cri-o"),
        ("docker-", "docker"),
        ("/docker/", "docker"),
    ]
    .into_iter()
    .find(|(needle, _)| path.contains(needle))
    .map(|(_, runtime)| runtime)
}

/// Judges the signs: `container` where a trusted sign says so, with the runtime
/// and orchestrator they name and every sign seen as evidence (those not
/// trusted say why).
pub fn classify(signs: &Signs) -> Environment {
    let mut evidence = Vec::new();
    let mut runtime: Option<String> = None;
    let mut in_container = false;
    let name = |r: &str, runtime: &mut Option<String>| {
        if runtime.is_none() {
            *runtime = Some(r.to_owned());
        }
    };
    if let Some(text) = &signs.containerenv {
        in_container = true;
        let engine = text.lines().find_map(|l| {
            l.strip_prefix("engine=")
                .map(|v| v.trim_matches('"').to_owned())
        });
        match engine {
            Some(engine) => {
                evidence.push(format!("/run/.containerenv exists (engine=\"{engine}\")"));
                // `podman-4.3.1` → `podman 4.3.1`.
                name(&engine.replacen('-', " ", 1), &mut runtime);
            }
            None => {
                evidence.push("/run/.containerenv exists (podman or CRI-O)".into());
            }
        }
    }
    for (what, value) in [
        ("$container", &signs.env_container),
        ("container= in /proc/1/environ", &signs.pid1_container),
    ] {
        if let Some(v) = value {
            in_container = true;
            evidence.push(format!("{what} is {v:?}"));
            // `oci` names the interface, not a runtime.
            if v != "oci" {
                name(v, &mut runtime);
            }
        }
    }
    let own_path = signs
        .self_cgroup
        .lines()
        .filter_map(|l| l.splitn(3, ':').nth(2))
        .find_map(|path| runtime_in_cgroup(path).map(|r| (path, r)));
    if let Some((path, r)) = own_path {
        in_container = true;
        evidence.push(format!("/proc/self/cgroup names {r}'s scope: {path}"));
        name(r, &mut runtime);
    }
    if signs.dockerenv {
        match signs.root_fs_type.as_deref() {
            Some("overlay") => {
                in_container = true;
                evidence.push("/.dockerenv exists and / is an overlay mount".into());
                name("docker", &mut runtime);
            }
            other => evidence.push(format!(
                "/.dockerenv exists but / is {} rather than a container's overlay: not trusted (a file left in a root filesystem made from a Docker image)",
                other.unwrap_or("of unknown type")
            )),
        }
    }
    let kubepods = signs.self_cgroup.contains("kubepods");
    if kubepods {
        evidence.push("/proc/self/cgroup lies beneath kubepods (the kubelet's tree)".into());
    }
    if let Some(h) = &signs.kubernetes_service_host {
        evidence.push(format!("$KUBERNETES_SERVICE_HOST is {h:?}"));
    }
    let orchestrator = (kubepods || signs.kubernetes_service_host.is_some()).then(|| {
        in_container = true;
        "kubernetes".to_owned()
    });
    Environment {
        kind: if in_container {
            EnvironmentKind::Container
        } else {
            EnvironmentKind::Host
        },
        runtime: runtime.filter(|_| in_container),
        orchestrator,
        evidence,
    }
}

/// Where this process runs: the signs of `/` and of its own environment, judged.
pub fn detect() -> Environment {
    classify(&Signs::read(Path::new("/"), |k| std::env::var(k).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// /proc/self/cgroup of `isobench` under `podman run --cgroupns=host` on the
    /// hybrid development host (podman 4.3.1, cgroupfs manager), shortened: podman
    /// puts the container in `libpod_parent/libpod-<id>` beneath each hierarchy's root
    /// (the real run's fingerprint named `/libpod_parent/libpod-aeb1bc3d…`).
    const PODMAN_HYBRID: &str = "9:name=systemd:/libpod_parent/libpod-0a1b2c\n8:pids:/libpod_parent/libpod-0a1b2c\n4:memory:/libpod_parent/libpod-0a1b2c\n1:cpu:/libpod_parent/libpod-0a1b2c\n0::/libpod_parent/libpod-0a1b2c\n";

    #[test]
    fn podman_container_is_named_with_its_version() {
        let signs = Signs {
            env_container: Some("podman".into()),
            containerenv: Some("engine=\"podman-4.3.1\"\nname=\"x\"\n".into()),
            self_cgroup: PODMAN_HYBRID.into(),
            ..Signs::default()
        };
        let env = classify(&signs);
        assert_eq!(env.kind, EnvironmentKind::Container);
        assert_eq!(env.runtime.as_deref(), Some("podman 4.3.1"));
        assert_eq!(env.orchestrator, None);
        assert_eq!(env.summary(), "container (podman 4.3.1)");
        assert_eq!(env.evidence.len(), 3, "{:?}", env.evidence);
    }

    #[test]
    fn dockerenv_on_a_non_overlay_root_is_not_trusted() {
        // The development VM: /.dockerenv left from the image, / on ext4.
        let signs = Signs {
            dockerenv: true,
            root_fs_type: Some("ext4".into()),
            self_cgroup: "4:memory:/process_api/8efa\n0::/\n".into(),
            ..Signs::default()
        };
        let env = classify(&signs);
        assert_eq!(env.kind, EnvironmentKind::Host);
        assert_eq!(env.runtime, None);
        assert!(
            env.evidence[0].contains("not trusted"),
            "{:?}",
            env.evidence
        );
        assert_eq!(env.summary(), "host");
    }

    #[test]
    fn docker_on_overlay_and_kubernetes_pods_are_containers() {
        let docker = classify(&Signs {
            dockerenv: true,
            root_fs_type: Some("overlay".into()),
            ..Signs::default()
        });
        assert_eq!(docker.summary(), "container (docker)");
        let pod = classify(&Signs {
            self_cgroup: "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc.scope\n".into(),
            kubernetes_service_host: Some("10.96.0.1".into()),
            ..Signs::default()
        });
        assert_eq!(pod.summary(), "container (containerd, kubernetes)");
        let unnamed = classify(&Signs {
            env_container: Some("oci".into()),
            ..Signs::default()
        });
        assert_eq!(unnamed.summary(), "container (runtime not named)");
    }

    #[test]
    fn signs_are_read_from_a_root_directory() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path();
        std::fs::create_dir_all(p.join("run")).unwrap();
        std::fs::create_dir_all(p.join("proc/self")).unwrap();
        std::fs::create_dir_all(p.join("proc/1")).unwrap();
        std::fs::write(p.join("run/.containerenv"), "engine=\"podman-4.3.1\"\n").unwrap();
        std::fs::write(p.join("proc/1/environ"), b"PATH=/bin\0container=lxc\0").unwrap();
        std::fs::write(p.join("proc/self/cgroup"), PODMAN_HYBRID).unwrap();
        std::fs::write(
            p.join("proc/self/mountinfo"),
            "22 1 0:21 / / rw,relatime - ext4 /dev/vda rw\n600 22 0:50 / / rw - overlay overlay rw,lowerdir=/l\n",
        )
        .unwrap();
        let signs = Signs::read(p, |k| (k == "container").then(|| "podman".to_owned()));
        assert_eq!(signs.pid1_container.as_deref(), Some("lxc"));
        assert_eq!(signs.root_fs_type.as_deref(), Some("overlay"));
        assert_eq!(signs.env_container.as_deref(), Some("podman"));
        assert!(!signs.dockerenv);
        assert_eq!(classify(&signs).runtime.as_deref(), Some("podman 4.3.1"));
    }
}
