//! Limits in the user's words (issue 7): each vocabulary's keys map to the
//! exact files of each layout, and every refused entry is reported at once
//! with its key, value and what is accepted. Pure: the host is described by
//! `HostFacts`, so these run anywhere.

use isobench::cgroup::{FileWrite, Layout};
use isobench::vocabulary::{
    BlockDevice, HostFacts, LimitError, Mapped, QosClass, TABLE, Vocabulary, map,
};
use toml::Value;

/// A 4-CPU host with two disks, on `layout`.
fn host(layout: Layout) -> HostFacts {
    HostFacts {
        layout,
        online_cpus: "0-3".parse().unwrap(),
        block_devices: vec![
            BlockDevice {
                name: "sda".into(),
                device: "8:0".parse().unwrap(),
            },
            BlockDevice {
                name: "vda".into(),
                device: "254:0".parse().unwrap(),
            },
        ],
        missing_knobs: Vec::new(),
    }
}

fn entries(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn mapped(v: Vocabulary, layout: Layout, pairs: &[(&str, Value)]) -> Mapped {
    map(v, &entries(pairs), &host(layout)).unwrap_or_else(|e| panic!("{e:#?}"))
}

fn errors(v: Vocabulary, layout: Layout, pairs: &[(&str, Value)]) -> Vec<LimitError> {
    map(v, &entries(pairs), &host(layout)).unwrap_err()
}

/// `(file, value)` of each write on `layout`.
fn files(m: &Mapped, layout: Layout) -> Vec<(String, String)> {
    m.files(layout)
        .into_iter()
        .map(|FileWrite { file, value, .. }| (file, value))
        .collect()
}

fn fv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect()
}

fn s(v: &str) -> Value {
    Value::from(v)
}

/// Asserts that `errs` holds an error for `key` = `value` whose message contains `says`.
#[track_caller]
fn has(errs: &[LimitError], key: &str, value: &str, says: &str) {
    assert!(
        errs.iter()
            .any(|e| e.key == key && e.value == value && e.message.contains(says)),
        "no error {key} = {value}: ...{says}... in {errs:#?}"
    );
}

// ---- Presets map to the expected files on v1, hybrid and v2 ----

#[test]
fn docker_cpus_is_a_quota_per_100ms_period() {
    let m = mapped(
        Vocabulary::Docker,
        Layout::V2,
        &[("cpus", Value::from(1.5))],
    );
    assert_eq!(files(&m, Layout::V2), fv(&[("cpu.max", "150000 100000")]));
    let v1 = fv(&[
        ("cpu.cfs_period_us", "100000"),
        ("cpu.cfs_quota_us", "150000"),
    ]);
    assert_eq!(files(&m, Layout::V1), v1);
    assert_eq!(files(&m, Layout::Hybrid), v1);
    assert_eq!(m.words, [("cpus".to_string(), "1.5".to_string())]);
    assert_eq!(m.qos, None);
}

#[test]
fn docker_cpu_shares_are_native_on_v1_and_converted_by_the_new_formula_on_v2() {
    let m = mapped(
        Vocabulary::Docker,
        Layout::Hybrid,
        &[("cpu_shares", Value::from(1024))],
    );
    assert_eq!(files(&m, Layout::Hybrid), fv(&[("cpu.shares", "1024")]));
    assert_eq!(files(&m, Layout::V2), fv(&[("cpu.weight", "100")]));
}

#[test]
fn docker_memory_with_swap_and_reservation_follows_runc() {
    let m = mapped(
        Vocabulary::Docker,
        Layout::V2,
        &[
            ("memory", s("512m")),
            ("memory_swap", s("1g")),
            ("memory_reservation", s("256m")),
        ],
    );
    assert_eq!(
        files(&m, Layout::V2),
        fv(&[
            ("memory.max", "536870912"),
            ("memory.swap.max", "536870912"),
            ("memory.low", "268435456"),
        ])
    );
    assert_eq!(
        files(&m, Layout::Hybrid),
        fv(&[
            ("memory.limit_in_bytes", "536870912"),
            ("memory.memsw.limit_in_bytes", "1073741824"),
            ("memory.soft_limit_in_bytes", "268435456"),
        ])
    );
    let unlimited = mapped(
        Vocabulary::Docker,
        Layout::V2,
        &[("memory", s("512m")), ("memory_swap", Value::from(-1))],
    );
    assert_eq!(
        files(&unlimited, Layout::V2)[1],
        ("memory.swap.max".into(), "max".into())
    );
    assert_eq!(
        files(&unlimited, Layout::V1)[1],
        ("memory.memsw.limit_in_bytes".into(), "-1".into())
    );
}

#[test]
fn docker_cpuset_pids_and_block_io() {
    let m = mapped(
        Vocabulary::Docker,
        Layout::V2,
        &[
            ("cpuset_cpus", s("0-1,3")),
            ("pids_limit", Value::from(100)),
            ("blkio_weight", Value::from(500)),
            ("device_read_bps", s("/dev/sda:1mb")),
            (
                "device_write_iops",
                Value::Array(vec![s("/dev/sda:100"), s("/dev/vda:50")]),
            ),
        ],
    );
    assert_eq!(
        files(&m, Layout::V2),
        fv(&[
            ("cpuset.cpus", "0-1,3"),
            ("pids.max", "100"),
            ("io.weight", "default 4950"),
            ("io.max", "8:0 rbps=1048576 wiops=100"),
            ("io.max", "254:0 wiops=50"),
        ])
    );
    assert_eq!(
        files(&m, Layout::V1),
        fv(&[
            ("cpuset.cpus", "0-1,3"),
            ("pids.max", "100"),
            ("blkio.weight", "500"),
            ("blkio.throttle.read_bps_device", "8:0 1048576"),
            ("blkio.throttle.write_iops_device", "8:0 100"),
            ("blkio.throttle.write_iops_device", "254:0 50"),
        ])
    );
    let unlimited = mapped(
        Vocabulary::Docker,
        Layout::V2,
        &[("pids_limit", Value::from(-1))],
    );
    assert_eq!(files(&unlimited, Layout::V1), fv(&[("pids.max", "max")]));
}

#[test]
fn kubernetes_limits_memory_is_memory_max() {
    let m = mapped(
        Vocabulary::Kubernetes,
        Layout::V2,
        &[("limits.memory", s("1Gi"))],
    );
    let v2 = files(&m, Layout::V2);
    assert!(
        v2.contains(&("memory.max".into(), "1073741824".into())),
        "{v2:?}"
    );
    let v1 = files(&m, Layout::Hybrid);
    assert!(
        v1.contains(&("memory.limit_in_bytes".into(), "1073741824".into())),
        "{v1:?}"
    );
    assert_eq!(m.qos, Some(QosClass::Burstable));
}

#[test]
fn kubernetes_cpu_request_is_shares_and_the_weight_uses_the_new_formula() {
    let m = mapped(
        Vocabulary::Kubernetes,
        Layout::V2,
        &[("requests.cpu", s("250m"))],
    );
    assert_eq!(files(&m, Layout::Hybrid), fv(&[("cpu.shares", "256")]));
    // 256 shares: the linear formula gave 10, runc >= 1.3.2 / crun >= 1.23 write 35.
    assert_eq!(files(&m, Layout::V2), fv(&[("cpu.weight", "35")]));
}

#[test]
fn kubernetes_cpu_limit_is_a_quota_per_100ms_with_a_1ms_floor() {
    let m = mapped(
        Vocabulary::Kubernetes,
        Layout::V2,
        &[("requests.cpu", s("250m")), ("limits.cpu", s("500m"))],
    );
    assert_eq!(
        files(&m, Layout::V2),
        fv(&[("cpu.max", "50000 100000"), ("cpu.weight", "35")])
    );
    assert_eq!(
        files(&m, Layout::V1),
        fv(&[
            ("cpu.cfs_period_us", "100000"),
            ("cpu.cfs_quota_us", "50000"),
            ("cpu.shares", "256"),
        ])
    );
    let tiny = mapped(
        Vocabulary::Kubernetes,
        Layout::V2,
        &[("limits.cpu", s("5m"))],
    );
    assert_eq!(
        files(&tiny, Layout::V2)[0],
        ("cpu.max".into(), "1000 100000".into())
    );
}

#[test]
fn kubernetes_qos_classes_follow_the_kubelet() {
    let guaranteed = mapped(
        Vocabulary::Kubernetes,
        Layout::V2,
        &[("limits.cpu", s("1")), ("limits.memory", s("512Mi"))],
    );
    assert_eq!(guaranteed.qos, Some(QosClass::Guaranteed));
    // Limits without requests imply requests = limits: 1 CPU of shares.
    assert_eq!(
        files(&guaranteed, Layout::V1),
        fv(&[
            ("cpu.cfs_period_us", "100000"),
            ("cpu.cfs_quota_us", "100000"),
            ("cpu.shares", "1024"),
            ("memory.limit_in_bytes", "536870912"),
        ])
    );
    let burstable = mapped(
        Vocabulary::Kubernetes,
        Layout::V2,
        &[
            ("requests.cpu", s("500m")),
            ("limits.cpu", s("1")),
            ("requests.memory", s("512Mi")),
            ("limits.memory", s("512Mi")),
        ],
    );
    assert_eq!(burstable.qos, Some(QosClass::Burstable));
    let best_effort = mapped(Vocabulary::Kubernetes, Layout::V2, &[]);
    assert_eq!(best_effort.qos, Some(QosClass::BestEffort));
    // As the kubelet does for a container without a CPU request: 2 shares.
    assert_eq!(files(&best_effort, Layout::V1), fv(&[("cpu.shares", "2")]));
    assert_eq!(files(&best_effort, Layout::V2), fv(&[("cpu.weight", "1")]));
}

#[test]
fn kubernetes_memory_request_is_recorded_as_not_written() {
    let m = mapped(
        Vocabulary::Kubernetes,
        Layout::V2,
        &[("requests.memory", s("256Mi")), ("limits.memory", s("1G"))],
    );
    assert_eq!(m.not_written.len(), 1);
    let nw = &m.not_written[0];
    assert_eq!(
        (nw.key.as_str(), nw.value.as_str()),
        ("requests.memory", "256Mi")
    );
    assert!(nw.reason.contains("MemoryQoS"), "{}", nw.reason);
    let v2 = files(&m, Layout::V2);
    assert!(
        v2.contains(&("memory.max".into(), "1000000000".into())),
        "{v2:?}"
    );
    assert!(!v2.iter().any(|(f, _)| f == "memory.min"), "{v2:?}");
    assert_eq!(
        m.words.len(),
        2,
        "the user's words keep what is not written"
    );
}

#[test]
fn native_keys_are_the_kernels_files() {
    let m = mapped(
        Vocabulary::Native,
        Layout::V2,
        &[
            ("cpu.max", s("max 50000")),
            ("cpu.weight", Value::from(200)),
            ("cpuset.cpus", s("0-1")),
            ("memory.max", s("256M")),
            ("memory.high", s("192M")),
            ("memory.swap.max", Value::from(0)),
            ("pids.max", s("max")),
            ("io.weight", s("default 300")),
            ("io.max", s("8:0 rbps=2097152 wiops=max")),
        ],
    );
    assert_eq!(
        files(&m, Layout::V2),
        fv(&[
            ("cpu.max", "max 50000"),
            ("cpu.weight", "200"),
            ("cpuset.cpus", "0-1"),
            ("memory.max", "268435456"),
            ("memory.high", "201326592"),
            ("memory.swap.max", "0"),
            ("pids.max", "max"),
            ("io.weight", "default 300"),
            ("io.max", "8:0 rbps=2097152 wiops=max"),
        ])
    );
    // The same words on v1: converted where v1 has an equivalent, v2-only memory knobs left out.
    assert_eq!(
        files(&m, Layout::V1),
        fv(&[
            ("cpu.cfs_period_us", "50000"),
            ("cpu.cfs_quota_us", "-1"),
            ("cpu.shares", "2451"),
            ("cpuset.cpus", "0-1"),
            ("memory.limit_in_bytes", "268435456"),
            ("pids.max", "max"),
            ("blkio.weight", "40"),
            ("blkio.throttle.read_bps_device", "8:0 2097152"),
            ("blkio.throttle.write_iops_device", "8:0 0"),
        ])
    );
    let shares = mapped(
        Vocabulary::Native,
        Layout::V2,
        &[("cpu.shares", Value::from(512))],
    );
    assert_eq!(files(&shares, Layout::V2), fv(&[("cpu.weight", "59")]));
    assert_eq!(files(&shares, Layout::V1), fv(&[("cpu.shares", "512")]));
}

#[test]
fn burst_idle_and_oom_group_are_native_keys_with_their_v1_files() {
    let m = mapped(
        Vocabulary::Native,
        Layout::V2,
        &[
            ("cpu.max", s("50000 100000")),
            ("cpu.max.burst", Value::from(50_000)),
            ("cpu.idle", Value::from(0)),
            ("cpu.weight", Value::from(100)),
            ("memory.max", s("256M")),
            ("memory.oom.group", Value::from(true)),
        ],
    );
    assert_eq!(
        files(&m, Layout::V2),
        fv(&[
            ("cpu.max", "50000 100000"),
            ("cpu.max.burst", "50000"),
            ("cpu.idle", "0"),
            ("cpu.weight", "100"),
            ("memory.max", "268435456"),
            ("memory.oom.group", "1"),
        ])
    );
    assert_eq!(
        files(&m, Layout::V1),
        fv(&[
            ("cpu.cfs_period_us", "100000"),
            ("cpu.cfs_quota_us", "50000"),
            ("cpu.cfs_burst_us", "50000"),
            ("cpu.idle", "0"),
            ("cpu.shares", "1024"),
            ("memory.limit_in_bytes", "268435456"),
        ]),
        "memory.oom.group is left out where v1 has no file"
    );
}

#[test]
fn c10_c11_c16_knobs_the_kernel_refuses_are_refused_with_the_reason() {
    let errs = errors(
        Vocabulary::Native,
        Layout::V2,
        &[
            ("cpu.max", s("50000 100000")),
            ("cpu.max.burst", Value::from(60_000)),
            ("cpu.idle", Value::from(1)),
            ("cpu.weight", Value::from(1)),
        ],
    );
    has(
        &errs,
        "cpu.max.burst",
        "60000",
        "above the quota of 50000 µs per 100000 µs period: the kernel refuses it with EINVAL",
    );
    has(&errs, "cpu.weight", "1", "a weight for an idle group");
    let errs = errors(
        Vocabulary::Native,
        Layout::V1,
        &[("memory.oom.group", Value::from(1))],
    );
    has(
        &errs,
        "memory.oom.group",
        "1",
        "memory.oom.group is not supported on v1 (cgroup v1 has no group OOM kill",
    );
    let errs = errors(Vocabulary::Native, Layout::V2, &[("cpu.idle", s("yes"))]);
    has(&errs, "cpu.idle", "yes", "is not 0 or 1");
}

#[test]
fn a_knob_this_kernel_lacks_is_refused_with_its_reason() {
    let mut old = host(Layout::Hybrid);
    old.missing_knobs.push(isobench::cgroup::Unsupported {
        knob: "cpu.cfs_burst_us".into(),
        layout: Layout::Hybrid,
        why: "no cpu.cfs_burst_us in /sys/fs/cgroup/cpu; CFS burst came in Linux 5.14".into(),
    });
    let errs = map(
        Vocabulary::Native,
        &entries(&[
            ("cpu.max", s("50000")),
            ("cpu.max.burst", Value::from(10_000)),
        ]),
        &old,
    )
    .unwrap_err();
    has(
        &errs,
        "cpu.max.burst",
        "10000",
        "cpu.cfs_burst_us is not supported on hybrid (no cpu.cfs_burst_us in /sys/fs/cgroup/cpu; CFS burst came in Linux 5.14)",
    );
}

#[test]
fn the_host_layout_decides_the_limits_written() {
    let words = [("memory.max", s("64M")), ("cpu.weight", Value::from(100))];
    let on_v1 = mapped(Vocabulary::Native, Layout::Hybrid, &words);
    assert_eq!(
        on_v1.limits.files(Layout::Hybrid),
        on_v1.files(Layout::Hybrid)
    );
    let on_v2 = mapped(Vocabulary::Native, Layout::V2, &words);
    assert_eq!(on_v2.limits.files(Layout::V2), on_v2.files(Layout::V2));
    let reservation = [("memory_reservation", s("64m"))];
    let d1 = mapped(Vocabulary::Docker, Layout::V1, &reservation);
    let d2 = mapped(Vocabulary::Docker, Layout::V2, &reservation);
    assert_ne!(
        d1.limits, d2.limits,
        "memory.soft_limit_in_bytes on v1, memory.low on v2"
    );
}

#[test]
fn the_table_covers_every_vocabulary_and_cites_its_sources() {
    for v in Vocabulary::ALL {
        assert!(
            TABLE.iter().filter(|r| r.vocabulary == v).count() >= 6,
            "{v}"
        );
    }
    for key in [
        "cpus",
        "cpu_shares",
        "cpuset_cpus",
        "memory",
        "memory_reservation",
        "pids_limit",
        "blkio_weight",
        "device_read_bps",
    ] {
        let row = TABLE
            .iter()
            .find(|r| r.vocabulary == Vocabulary::Docker && r.key == key)
            .unwrap_or_else(|| panic!("{key}"));
        assert!(
            row.source.contains("docs.docker.com"),
            "{key}: {}",
            row.source
        );
    }
    let requests_cpu = TABLE.iter().find(|r| r.key == "requests.cpu").unwrap();
    assert!(requests_cpu.maps_to.contains("milliCPU*1024/1000"));
    assert_eq!("k8s".parse(), Ok(Vocabulary::Kubernetes));
    assert!(
        "podman"
            .parse::<Vocabulary>()
            .unwrap_err()
            .contains("native, docker or kubernetes")
    );
}

// ---- Errors: key, value and what is accepted; all of them at once ----

#[test]
fn cpu_values_out_of_range_say_the_range() {
    let errs = errors(
        Vocabulary::Native,
        Layout::V2,
        &[
            ("cpu.max", s("500 100000")),
            ("cpu.weight", Value::from(0)),
            ("cpu.shares", Value::from(1)),
        ],
    );
    has(
        &errs,
        "cpu.max",
        "500 100000",
        "quota 500 µs is below the kernel's minimum: expected at least 1000 µs",
    );
    has(
        &errs,
        "cpu.weight",
        "0",
        "0 is out of range: expected a cpu.weight from 1 to 10000",
    );
    has(
        &errs,
        "cpu.shares",
        "1",
        "expected cpu.shares from 2 to 262144",
    );
    let errs = errors(
        Vocabulary::Native,
        Layout::V2,
        &[
            ("cpu.max", s("50000 2000000")),
            ("io.weight", Value::from(10001)),
        ],
    );
    has(
        &errs,
        "cpu.max",
        "50000 2000000",
        "expected 1000 to 1000000 µs",
    );
    has(
        &errs,
        "io.weight",
        "10001",
        "expected an io.weight from 1 to 10000",
    );
}

#[test]
fn malformed_values_say_what_is_accepted() {
    let errs = errors(
        Vocabulary::Native,
        Layout::V2,
        &[
            ("cpu.max", s("fifty")),
            ("memory.max", s("12X")),
            ("pids.max", Value::from(true)),
            ("io.max", s("8:0 rbps")),
            ("cpuset.cpus", s("3-1")),
        ],
    );
    assert_eq!(errs.len(), 5, "{errs:#?}");
    has(
        &errs,
        "cpu.max",
        "fifty",
        "expected \"QUOTA PERIOD\" or \"max PERIOD\"",
    );
    has(&errs, "memory.max", "12X", "is not a size");
    has(&errs, "memory.max", "12X", "K, M, G are powers of 1024");
    has(&errs, "pids.max", "true", "not a boolean");
    has(&errs, "io.max", "8:0 rbps", "is not KEY=VALUE");
    has(&errs, "cpuset.cpus", "3-1", "runs backwards");
}

#[test]
fn what_the_host_lacks_is_named() {
    let errs = errors(
        Vocabulary::Native,
        Layout::V2,
        &[("cpuset.cpus", s("0-7")), ("io.max", s("9:9 rbps=1"))],
    );
    has(
        &errs,
        "cpuset.cpus",
        "0-7",
        "this host has no CPU 4-7 online (online: 0-3",
    );
    has(
        &errs,
        "io.max",
        "9:9 rbps=1",
        "expected one of /dev/sda (8:0), /dev/vda (254:0)",
    );
    let errs = errors(
        Vocabulary::Docker,
        Layout::V2,
        &[
            ("cpus", Value::from(8)),
            ("device_read_bps", s("/dev/sdz:1mb")),
        ],
    );
    has(
        &errs,
        "cpus",
        "8",
        "Range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available",
    );
    has(
        &errs,
        "device_read_bps",
        "/dev/sdz:1mb",
        "\"/dev/sdz\" is not a whole-disk block device",
    );
}

#[test]
fn knobs_the_layout_cannot_honour_are_refused_as_unsupported() {
    let errs = errors(
        Vocabulary::Native,
        Layout::Hybrid,
        &[("memory.high", s("64M")), ("memory.min", s("1M"))],
    );
    has(
        &errs,
        "memory.high",
        "64M",
        "memory.high is not supported on hybrid (v1 has no throttling limit",
    );
    has(
        &errs,
        "memory.min",
        "1M",
        "memory.min is not supported on hybrid",
    );
    let errs = errors(
        Vocabulary::Native,
        Layout::V2,
        &[("memory.soft_limit_in_bytes", s("64M"))],
    );
    has(
        &errs,
        "memory.soft_limit_in_bytes",
        "64M",
        "not supported on v2 (v2 offers memory.low and memory.high)",
    );
}

#[test]
fn unknown_keys_get_a_did_you_mean() {
    let errs = errors(
        Vocabulary::Native,
        Layout::V2,
        &[("cpu.wieght", Value::from(100))],
    );
    has(
        &errs,
        "cpu.wieght",
        "100",
        "unknown native key; did you mean `cpu.weight`?",
    );
    has(&errs, "cpu.wieght", "100", "accepted: cpu.max, cpu.weight");
    let errs = errors(Vocabulary::Kubernetes, Layout::V2, &[("limit.cpu", s("1"))]);
    has(&errs, "limit.cpu", "1", "did you mean `limits.cpu`?");
    let errs = errors(
        Vocabulary::Kubernetes,
        Layout::V2,
        &[("cpus", Value::from(2))],
    );
    has(
        &errs,
        "cpus",
        "2",
        "`cpus` is a docker key, but these limits are in the kubernetes vocabulary",
    );
    let errs = errors(
        Vocabulary::Docker,
        Layout::V2,
        &[("cpu-shares", Value::from(512))],
    );
    has(&errs, "cpu-shares", "512", "did you mean `cpu_shares`?");
}

#[test]
fn kubernetes_quantities_and_rules_are_checked() {
    let errs = errors(
        Vocabulary::Kubernetes,
        Layout::V2,
        &[
            ("limits.cpu", s("500x")),
            ("limits.memory", s("1.5")),
            ("limits.pids", Value::from(100)),
        ],
    );
    has(
        &errs,
        "limits.cpu",
        "500x",
        "expected a Kubernetes quantity such as 250m",
    );
    has(&errs, "limits.memory", "1.5", "not a whole number of bytes");
    has(&errs, "limits.pids", "100", "podPidsLimit");
    let errs = errors(
        Vocabulary::Kubernetes,
        Layout::V2,
        &[("requests.cpu", s("1")), ("limits.cpu", s("500m"))],
    );
    has(
        &errs,
        "requests.cpu",
        "1",
        "the request (1000 milliCPU) is above the limit (500 milliCPU)",
    );
}

#[test]
fn docker_rules_are_docker_s() {
    let errs = errors(
        Vocabulary::Docker,
        Layout::V2,
        &[("memory", s("4m")), ("memory_reservation", s("1k"))],
    );
    has(&errs, "memory", "4m", "Minimum memory limit allowed is 6MB");
    has(
        &errs,
        "memory_reservation",
        "1k",
        "Minimum memory reservation allowed is 6MB",
    );
    let errs = errors(Vocabulary::Docker, Layout::V2, &[("memory_swap", s("1g"))]);
    has(
        &errs,
        "memory_swap",
        "1g",
        "You should always set the Memory limit when using Memoryswap limit",
    );
    let errs = errors(
        Vocabulary::Docker,
        Layout::V1,
        &[
            ("memory", s("512m")),
            ("memory_swap", s("256m")),
            ("memory_reservation", s("1g")),
        ],
    );
    has(
        &errs,
        "memory_swap",
        "256m",
        "below the memory limit of 536870912 bytes",
    );
    has(&errs, "memory_reservation", "1g", "above the memory limit");
}

#[test]
fn the_same_file_twice_or_the_same_key_twice_is_refused() {
    let errs = errors(
        Vocabulary::Native,
        Layout::Hybrid,
        &[
            ("memory.max", s("64M")),
            ("memory.limit_in_bytes", s("32M")),
            ("cpu.weight", Value::from(100)),
            ("cpu.shares", Value::from(1024)),
            ("cpu.weight", Value::from(200)),
        ],
    );
    has(
        &errs,
        "memory.limit_in_bytes",
        "32M",
        "sets the same memory.limit_in_bytes on hybrid as `memory.max`",
    );
    has(
        &errs,
        "cpu.shares",
        "1024",
        "sets the same cpu weight on hybrid as `cpu.weight`",
    );
    has(&errs, "cpu.weight", "200", "given twice");
}

#[test]
fn every_error_of_a_list_is_reported_at_once_in_order() {
    let errs = errors(
        Vocabulary::Native,
        Layout::V2,
        &[
            ("cpu.max", s("100 100000")),
            ("cpu.weight", Value::from(150)),
            ("memory.max", s("lots")),
            ("pids.maxx", Value::from(5)),
            ("pids.max", Value::from(0)),
        ],
    );
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        ["cpu.max", "memory.max", "pids.maxx", "pids.max"],
        "{errs:#?}"
    );
    has(&errs, "pids.maxx", "5", "did you mean `pids.max`?");
    has(
        &errs,
        "pids.max",
        "0",
        "expected a number of tasks of at least 1, or max",
    );
    assert_eq!(
        errs[0].to_string(),
        "cpu.max = 100 100000: quota 100 µs is below the kernel's minimum: expected at least 1000 µs, or max"
    );
}
