//! `kmsdns verify --format nagios|prometheus` against a real named: the monitoring-plugins
//! contract (status line, perfdata, exit codes 0/1/2/3) and the Prometheus text format, read
//! back with a real exposition-format parser (openmetrics-parser).

use std::collections::HashMap;

use openmetrics_parser::{PrometheusType, PrometheusValue, prometheus::parse_prometheus};

use crate::harness::cli::{kmsdns, write_config};
use crate::harness::ports::free_port;
use crate::harness::{BindServer, Policy, ServerBuilder, ZoneBuilder};

use super::*;

/// example.com with kms1 (127.0.0.1) serving corp and branch on `port`; lab has no SRV.
fn lab(port: u16) -> BindServer {
    let z = ZoneBuilder::new("example.com")
        .record("kms1 A 127.0.0.1")
        .record(&srv_line(port, "kms1.example.com."))
        .record(&format!(
            "_vlmcs._tcp.branch 3600 IN SRV 0 0 {port} kms1.example.com."
        ))
        .policy(Policy::None);
    BindServer::start(&ServerBuilder::new().zone(z))
}

/// Runs `verify --format FORMAT` for the config `cfg` against `bind`; (exit code, stdout).
fn run(cfg: &std::path::Path, bind: &BindServer, format: &str, extra: &[&str]) -> (i32, String) {
    let out = kmsdns()
        .arg("-c")
        .arg(cfg)
        .args([
            "verify",
            "--format",
            format,
            "--resolver",
            &bind.addr().to_string(),
            "--server-port",
            &bind.port().to_string(),
            "--connect-timeout",
            "1s",
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// One performance data item: `'label'=value[UOM];[warn];[crit];[min];[max]`.
#[derive(Debug, PartialEq)]
struct Perf {
    value: f64,
    uom: String,
    warn: String,
    crit: String,
    min: String,
    max: String,
}

/// Parses perfdata as the monitoring-plugins guidelines define it: space-separated items; a
/// label with spaces or `=` is single-quoted (a quote inside doubled); the value is
/// `[-0-9.]+` with an optional UOM (none, s, ms, us, %, B, KB, MB, TB, GB, c); warn, crit,
/// min, max are optional and trailing ones may be dropped.
fn parse_perfdata(text: &str) -> HashMap<String, Perf> {
    let mut items = HashMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (label, after) = if let Some(r) = rest.strip_prefix('\'') {
            let mut label = String::new();
            let mut chars = r.char_indices().peekable();
            let end = loop {
                let (i, c) = chars.next().expect("unterminated quoted label");
                if c == '\'' {
                    if chars.peek().map(|p| p.1) == Some('\'') {
                        chars.next();
                        label.push('\'');
                        continue;
                    }
                    break i + 1;
                }
                label.push(c);
            };
            (label, &r[end..])
        } else {
            let eq = rest.find('=').expect("label=value");
            (rest[..eq].to_string(), &rest[eq..])
        };
        assert!(!label.is_empty(), "empty label in {text}");
        let after = after.strip_prefix('=').expect("= after the label");
        let end = after.find(' ').unwrap_or(after.len());
        let fields: Vec<&str> = after[..end].split(';').collect();
        assert!(fields.len() <= 5, "too many fields: {}", &after[..end]);
        let v = fields[0];
        let num_end = v
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(v.len());
        let uom = &v[num_end..];
        assert!(
            ["", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"].contains(&uom),
            "unit {uom:?} in {v}"
        );
        let field = |i: usize| fields.get(i).unwrap_or(&"").to_string();
        for (i, f) in fields.iter().enumerate().skip(1) {
            assert!(
                f.is_empty() || f.chars().all(|c| c.is_ascii_digit() || "-.:~@".contains(c)),
                "field {i} of {label}: {f:?}"
            );
        }
        let perf = Perf {
            value: v[..num_end].parse().expect("numeric value"),
            uom: uom.to_string(),
            warn: field(1),
            crit: field(2),
            min: field(3),
            max: field(4),
        };
        assert!(items.insert(label.clone(), perf).is_none(), "{label} twice");
        rest = after[end..].trim_start();
    }
    items
}

/// Splits plugin output into (status text, perfdata of the first line, long output lines).
fn status(out: &str) -> (String, HashMap<String, Perf>, Vec<String>) {
    let mut lines = out.lines();
    let first = lines.next().expect("a status line");
    let (text, perf) = first.split_once(" | ").expect("perfdata after ' | '");
    let long: Vec<String> = lines.map(str::to_string).collect();
    assert!(long.iter().all(|l| !l.contains('|')), "{out}");
    (text.to_string(), parse_perfdata(perf), long)
}

fn three_domains(dir: &std::path::Path, port: u16, suffixes: &[&str]) -> std::path::PathBuf {
    config(
        dir,
        "kms1.example.com",
        port,
        &["corp.example.com", "branch.example.com", "lab.example.com"],
        suffixes,
    )
}

#[test]
fn nagios_critical_for_a_domain_without_srv() {
    let (_kms, port) = kms_listener();
    let bind = lab(port);
    let dir = tempfile::tempdir().unwrap();
    let cfg = three_domains(dir.path(), port, &["corp.example.com"]);
    let (code, out) = run(&cfg, &bind, "nagios", &[]);
    assert_eq!(code, 2, "{out}");
    let (text, perf, long) = status(&out);
    assert_eq!(
        text,
        "KMSDNS CRITICAL - 1 of 3 domains failing: lab.example.com srv-missing"
    );
    let v = |k: &str| perf.get(k).unwrap_or_else(|| panic!("{k}: {perf:?}")).value;
    assert_eq!(v("domains"), 3.0);
    assert_eq!(v("failing"), 1.0);
    assert_eq!(perf["failing"].max, "3");
    assert_eq!(perf["failing"].min, "0");
    assert_eq!(v("checks_failed"), 1.0);
    assert_eq!(v("records_found"), 2.0);
    assert_eq!(v("records_expected"), 3.0);
    assert_eq!(v("suffixes"), 1.0);
    assert_eq!(v("suffixes_failing"), 0.0);
    let tcp = &perf["tcp_connect_max"];
    assert_eq!(tcp.uom, "s");
    assert!(tcp.value > 0.0 && tcp.value < 1.0, "{tcp:?}");
    assert_eq!((tcp.warn.as_str(), tcp.crit.as_str()), ("", ""));
    // Long output: a line per domain, the failed check under its domain.
    assert!(long.contains(&"corp.example.com: OK".to_string()), "{out}");
    let i = long
        .iter()
        .position(|l| l == "lab.example.com: CRITICAL")
        .unwrap();
    assert!(
        long[i + 1].starts_with("  [CRITICAL] srv srv-missing: _vlmcs._tcp.lab.example.com."),
        "{out}"
    );
}

#[test]
fn nagios_ok_for_a_healthy_lab() {
    let (_kms, port) = kms_listener();
    let bind = lab(port);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "kms1.example.com",
        port,
        &["corp.example.com", "branch.example.com"],
        &["corp.example.com"],
    );
    let (code, out) = run(&cfg, &bind, "nagios", &[]);
    assert_eq!(code, 0, "{out}");
    let (text, perf, _) = status(&out);
    assert!(text.starts_with("KMSDNS OK - "), "{text}");
    assert_eq!(text, "KMSDNS OK - 2 domains, 1 suffixes, all checks passed");
    assert_eq!(perf["failing"].value, 0.0);
    assert_eq!(perf["records_found"].value, 2.0);
    assert_eq!(perf["records_expected"].value, 2.0);
}

#[test]
fn nagios_warning_for_a_suffix_not_covered() {
    let (_kms, port) = kms_listener();
    let bind = lab(port);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "kms1.example.com",
        port,
        &["corp.example.com"],
        &["corp.example.com", "nothere.example.com"],
    );
    let (code, out) = run(&cfg, &bind, "nagios", &[]);
    assert_eq!(code, 1, "{out}");
    let (text, perf, long) = status(&out);
    assert_eq!(
        text,
        "KMSDNS WARNING - 1 of 2 suffixes failing: nothere.example.com suffix-not-covered"
    );
    assert_eq!(perf["suffixes_failing"].value, 1.0);
    assert_eq!(perf["failing"].value, 0.0);
    let i = long
        .iter()
        .position(|l| l == "suffix nothere.example.com: WARNING")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        long[i + 1]
            .starts_with("  [WARNING] suffix suffix-not-covered: suffix nothere.example.com."),
        "{out}"
    );
    assert!(
        long.contains(&"suffix corp.example.com: OK".to_string()),
        "{out}"
    );
    // The other formats keep their own contract: 1 for any failed check.
    assert_eq!(run(&cfg, &bind, "text", &[]).0, 1);
}

#[test]
fn nagios_unknown_when_the_resolver_does_not_answer() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "kms1.example.com",
        1688,
        &["corp.example.com"],
        &["corp.example.com"],
    );
    let dead = format!("127.0.0.1:{}", free_port());
    let out = kmsdns()
        .arg("-c")
        .arg(&cfg)
        .args(["verify", "--format", "nagios", "--resolver", &dead])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    let (text, perf, _) = status(&stdout);
    assert!(text.starts_with("KMSDNS UNKNOWN - "), "{text}");
    assert!(text.contains("corp.example.com dns-unreachable"), "{text}");
    assert_eq!(perf["records_found"].value, 0.0);
}

#[test]
fn nagios_unknown_when_verify_cannot_run() {
    // A missing config file.
    let out = kmsdns()
        .args([
            "-c",
            "/nonexistent/kmsdns.toml",
            "verify",
            "--format",
            "nagios",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("KMSDNS UNKNOWN - /nonexistent/kmsdns.toml: error: cannot read"),
        "{stdout}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    // A config with an error.
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "[[domains]]\nname = 42\n");
    let out = kmsdns()
        .arg("-c")
        .arg(&cfg)
        .args(["verify", "--format", "nagios", "--resolver", "127.0.0.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("KMSDNS UNKNOWN - ")
    );
}

/// The gauge value of the sample of `family` whose labels are exactly `labels`.
fn gauge(
    m: &openmetrics_parser::MetricsExposition<PrometheusType, PrometheusValue>,
    family: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    let f = m.families.get(family)?;
    assert_eq!(f.family_type, PrometheusType::Gauge, "{family}");
    assert!(!f.help.is_empty(), "{family} has no HELP");
    f.iter_samples()
        .find(|s| {
            let set = s.get_labelset().unwrap();
            set.iter().count() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
        .map(|s| match &s.value {
            PrometheusValue::Gauge(n) => n.as_f64(),
            v => panic!("{family}: not a gauge: {v:?}"),
        })
}

#[test]
fn prometheus_text_parses_and_matches_the_lab() {
    let (_kms, port) = kms_listener();
    let bind = lab(port);
    let dir = tempfile::tempdir().unwrap();
    let cfg = three_domains(
        dir.path(),
        port,
        &["corp.example.com", "nothere.example.com"],
    );
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let (code, out) = run(&cfg, &bind, "prometheus", &[]);
    assert_eq!(code, 1, "same exit code as text: a check failed\n{out}");
    let m = parse_prometheus(&out).unwrap_or_else(|e| panic!("{e:?}\n{out}"));
    let mut names: Vec<&str> = m.families.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "kmsdns_check_ok",
            "kmsdns_domain_ok",
            "kmsdns_srv_records_expected",
            "kmsdns_srv_records_found",
            "kmsdns_tcp_connect_seconds",
            "kmsdns_verify_ok",
            "kmsdns_verify_timestamp_seconds",
        ]
    );
    assert_eq!(gauge(&m, "kmsdns_verify_ok", &[]), Some(0.0));
    let ts = gauge(&m, "kmsdns_verify_timestamp_seconds", &[]).unwrap();
    assert!((ts - before).abs() < 60.0, "{ts} vs {before}");
    for (d, found, ok) in [
        ("corp.example.com", 1.0, 1.0),
        ("branch.example.com", 1.0, 1.0),
        ("lab.example.com", 0.0, 0.0),
    ] {
        let dl = [("domain", d)];
        assert_eq!(
            gauge(&m, "kmsdns_srv_records_found", &dl),
            Some(found),
            "{d}"
        );
        assert_eq!(
            gauge(&m, "kmsdns_srv_records_expected", &dl),
            Some(1.0),
            "{d}"
        );
        assert_eq!(gauge(&m, "kmsdns_domain_ok", &dl), Some(ok), "{d}");
        for rung in ["resolver", "authoritative", "target", "tcp"] {
            let l = [("domain", d), ("rung", rung)];
            assert_eq!(gauge(&m, "kmsdns_check_ok", &l), Some(1.0), "{d} {rung}");
        }
        let l = [("domain", d), ("rung", "srv")];
        assert_eq!(gauge(&m, "kmsdns_check_ok", &l), Some(ok), "{d} srv");
        let port = port.to_string();
        let l = [
            ("domain", d),
            ("target", "kms1.example.com"),
            ("port", port.as_str()),
        ];
        let s = gauge(&m, "kmsdns_tcp_connect_seconds", &l).unwrap_or_else(|| panic!("{out}"));
        assert!(s > 0.0 && s < 1.0, "{d}: {s}");
    }
    for (suffix, ok) in [("corp.example.com", 1.0), ("nothere.example.com", 0.0)] {
        let l = [("domain", suffix), ("rung", "suffix")];
        assert_eq!(gauge(&m, "kmsdns_check_ok", &l), Some(ok), "{suffix}");
    }
    // Three domains, five rungs each, two suffixes: one sample per label set.
    assert_eq!(m.families["kmsdns_check_ok"].iter_samples().count(), 17);
}

#[test]
fn prometheus_exit_code_is_zero_when_healthy() {
    let (_kms, port) = kms_listener();
    let bind = lab(port);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "kms1.example.com",
        port,
        &["corp.example.com"],
        &[],
    );
    let (code, out) = run(&cfg, &bind, "prometheus", &[]);
    assert_eq!(code, 0, "{out}");
    let m = parse_prometheus(&out).unwrap();
    assert_eq!(gauge(&m, "kmsdns_verify_ok", &[]), Some(1.0));
    // --json stays an alias of --format json.
    let out = kmsdns()
        .arg("-c")
        .arg(&cfg)
        .args(["verify", "--json", "--resolver", &bind.addr().to_string()])
        .args(["--server-port", &bind.port().to_string()])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["domains"][0]["records_found"], 1);
    let tcp = &report["domains"][0]["checks"][4]["tcp"];
    assert_eq!(tcp["port"], port);
    assert!(
        tcp["attempts"][0]["seconds"].as_f64().unwrap() > 0.0,
        "{tcp}"
    );
}
