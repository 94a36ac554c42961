//! The import rules of docs/design.md, checked by reading the sources: which layer may name
//! which, where the wire code lives, which layers do no network I/O, and the file size limit
//! (src/ and tests/).
//! Unit-test modules (`#[cfg(test)] mod tests`, `tests.rs`) are left out: they may build
//! values through any layer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every non-test Rust source under src/, as (path relative to src/, text).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src/") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "tests.rs"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read source");
            // Drop an inline unit-test module at the end of the file.
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => &text[..i],
                None => &text[..],
            };
            // Comments may name anything.
            let text: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(|l| format!("{l}\n"))
                .collect();
            let rel = p
                .strip_prefix(&root)
                .expect("under src/")
                .to_string_lossy()
                .replace('\\', "/");
            (rel, text)
        })
        .collect()
}

/// The top-level module a source file belongs to: `dns/tsig/mod.rs` → `dns`, `lib.rs` → `lib`.
fn layer(rel: &str) -> &str {
    rel.split('/')
        .next()
        .expect("non-empty")
        .trim_end_matches(".rs")
}

/// The crate modules a file names (`crate::x` anywhere, `use` lines or paths).
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// Which crate modules each layer may name (besides itself). `error` is the shared error and
/// exit-code type of the CLI contract.
fn allowed(layer: &str) -> &'static [&'static str] {
    match layer {
        "main" | "lib" => &["cli", "error", "app"],
        "cli" => &["app", "model", "error"],
        "app" => &[
            "config", "plan", "render", "verify", "dns", "model", "error",
        ],
        "config" | "plan" | "render" | "verify" | "dns" => &["model"],
        "model" => &[],
        "error" => &["config"],
        other => panic!("unknown layer {other}: add it to the rules in tests/it/layers.rs"),
    }
}

#[test]
fn every_layer_names_only_the_layers_below_it() {
    let mut problems = Vec::new();
    for (rel, text) in sources() {
        let me = layer(&rel);
        for r in crate_refs(&text) {
            if r != me && !allowed(me).contains(&r.as_str()) {
                problems.push(format!("src/{rel} ({me}) names crate::{r}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layering violations:\n{}",
        problems.join("\n")
    );
}

#[test]
fn only_dns_speaks_the_wire() {
    // hickory-proto, the system GSSAPI and DNS sockets live in src/dns/ alone; verify's TCP
    // 1688 probe is its own small module.
    let wire = [
        "hickory_proto",
        "libgssapi",
        "UdpSocket",
        "TcpStream",
        "lookup_host",
        "tokio::net",
        "to_socket_addrs",
    ];
    let mut problems = Vec::new();
    let mut seen_in_dns = BTreeSet::new();
    for (rel, text) in sources() {
        for w in wire {
            if !text.contains(w) {
                continue;
            }
            if rel.starts_with("dns/") {
                seen_in_dns.insert(w);
            } else if !(rel == "verify/probe.rs" && matches!(w, "tokio::net" | "TcpStream")) {
                problems.push(format!("src/{rel} uses {w}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "wire code outside src/dns/:\n{}",
        problems.join("\n")
    );
    // The check looks for the right words: the wire layer does use them.
    for w in ["hickory_proto", "libgssapi", "UdpSocket", "TcpStream"] {
        assert!(seen_in_dns.contains(w), "src/dns/ no longer mentions {w}?");
    }
}

#[test]
fn the_pure_layers_do_no_io() {
    let io = [
        "tokio",
        "std::net::TcpStream",
        "std::net::UdpSocket",
        "std::fs::write",
        "File::create",
        "reqwest",
    ];
    let mut problems = Vec::new();
    for (rel, text) in sources() {
        let pure = ["model/", "plan/", "render/", "verify/rules.rs", "config/"]
            .iter()
            .any(|p| rel.starts_with(p));
        if !pure {
            continue;
        }
        for w in io {
            if text.contains(w) {
                problems.push(format!("src/{rel} uses {w}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "I/O in a pure layer:\n{}",
        problems.join("\n")
    );
}

/// The Rust files under `dir` (relative to the crate root) with more than 500 lines, as
/// "path (N lines)"; `snapshots/` directories (insta) are left out.
fn files_over_500_lines(dir: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut big = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "snapshots") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let lines = std::fs::read_to_string(&path)
                    .expect("read")
                    .lines()
                    .count();
                if lines > 500 {
                    big.push(format!("{} ({lines} lines)", path.display()));
                }
            }
        }
    }
    big.sort();
    big
}

/// The project rule, for the code and for the tests alike.
#[test]
fn no_source_file_is_over_500_lines() {
    let mut big = files_over_500_lines("src");
    big.extend(files_over_500_lines("tests"));
    assert!(big.is_empty(), "split these by concern: {}", big.join(", "));
}
