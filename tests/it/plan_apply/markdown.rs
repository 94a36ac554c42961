//! `plan --format markdown`: snapshots against a real BIND, and the text parsed as CommonMark
//! (GitHub tables) to check its structure — heading, summary, one table row per change.

use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::harness::cli::kmsdns;

use super::*;

/// `kmsdns -c kmsdns.toml plan --format markdown ARGS…` run in `dir` (so the footer names the
/// config as `kmsdns.toml`): the exit code and stdout.
fn markdown(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = kmsdns()
        .current_dir(dir)
        .args(["-c", "kmsdns.toml", "plan", "--format", "markdown"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// Ports, digests and the version change from run to run; the snapshots must not.
macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            filters => vec![
                (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
                (r"`[0-9a-f]{12}`", "`[SHA]`"),
                (r"kmsdns \d+\.\d+\.\d+\S*", "kmsdns [VERSION]"),
            ],
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

/// What a Markdown renderer sees: the headings (level, text), the number of table body rows,
/// and the list items.
#[derive(Debug, Default)]
struct Shape {
    headings: Vec<(HeadingLevel, String)>,
    table_rows: usize,
    tables: usize,
    list_items: usize,
    rules: usize,
}

fn shape(md: &str) -> Shape {
    let mut s = Shape::default();
    let mut heading: Option<(HeadingLevel, String)> = None;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, String::new())),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, h)) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => s.headings.extend(heading.take()),
            Event::Start(Tag::Table(_)) => s.tables += 1,
            // Body rows only: the header row is a TableHead.
            Event::Start(Tag::TableRow) => s.table_rows += 1,
            Event::Start(Tag::Item) => s.list_items += 1,
            Event::Rule => s.rules += 1,
            _ => {}
        }
    }
    s
}

fn heading_texts(s: &Shape) -> Vec<String> {
    s.headings
        .iter()
        .map(|(l, t)| format!("{l:?} {t}"))
        .collect()
}

#[test]
fn plan_markdown_shows_adds_drift_and_kept_records() {
    let (bind, dir, cfg) = setup("prune = false\n");
    // Every target missing: 4 adds in two zones.
    let (code, md) = markdown(dir.path(), &["--detailed-exitcode"]);
    assert_eq!(code, 2, "{md}");
    let s = shape(&md);
    assert_eq!(
        heading_texts(&s),
        [
            "H2 kmsdns plan",
            "H3 Zone example.com.",
            "H3 Zone example.net."
        ],
        "{md}"
    );
    assert_eq!((s.tables, s.table_rows, s.rules), (2, 4, 1), "{md}");
    assert!(
        md.contains("**Plan: 4 to add, 0 to change, 0 to delete.**"),
        "{md}"
    );
    snapshot!("plan_markdown_fresh", md);

    run(&cfg, &["apply", "--yes"]).success();
    // Drift: a self-publisher in corp (kept, prune = false, and its TTL kept on ours), a
    // rogue target and a changed TTL at the apex, branch's record gone.
    let key = bind.key("kms-update");
    let out = bind.nsupdate(
        key,
        &format!(
            "update add {CORP}. 600 SRV 0 0 1688 self.example.com.\n\
             update add {APEX}. 3600 SRV 0 0 1688 rogue.example.com.\n\
             update delete {APEX}. SRV 0 0 1688 kms1.example.com.\n\
             update add {APEX}. 60 SRV 0 0 1688 kms1.example.com.\nsend\n\
             update delete {BRANCH}. SRV\nsend\n"
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, md) = markdown(dir.path(), &["--detailed-exitcode"]);
    assert_eq!(code, 2, "{md}");
    let s = shape(&md);
    // apex: ~ kms1, - rogue; branch: + kms2. corp is up to date, with notes (2 TTLs kept, 1
    // unmanaged member).
    assert_eq!((s.tables, s.table_rows, s.list_items), (2, 3, 3), "{md}");
    assert!(
        md.contains("**Plan: 1 to add, 1 to change, 1 to delete.**"),
        "{md}"
    );
    assert!(md.contains("| ~ | `_vlmcs._tcp.example.com.` | `3600 IN SRV 0 0 1688 kms1.example.com.` | ttl 60 → 3600 |"), "{md}");
    snapshot!("plan_markdown_drift", md);

    run(&cfg, &["apply", "--yes"]).success();
    let (code, md) = markdown(dir.path(), &["--detailed-exitcode"]);
    assert_eq!(code, 0, "{md}");
    let s = shape(&md);
    assert_eq!((s.tables, s.table_rows), (0, 0), "{md}");
    assert!(md.contains("**No changes.**"), "{md}");
    snapshot!("plan_markdown_no_changes", md);
}

#[test]
fn plan_markdown_reports_unreadable_zones_and_failed_domains() {
    // gone.example.org: a zone the server does not serve; lost.example.org: no server and no
    // zone, to be discovered through a resolver that does not answer.
    let extra = "\n[[domains]]\nname = \"gone.example.org\"\nzone = \"example.org\"\nserver = \"lab\"\nhosts = [\"kms1.example.com\"]\n\n[[domains]]\nname = \"lost.example.org\"\nhosts = [\"kms1.example.com\"]\n";
    let (_bind, dir, _cfg) = setup(extra);
    let dead = format!("127.0.0.1:{}", crate::harness::ports::free_port());
    let (code, md) = markdown(dir.path(), &["--resolver", &dead]);
    assert_eq!(code, 1, "errors exit 1 as with the text output: {md}");
    let s = shape(&md);
    let headings = heading_texts(&s);
    assert!(
        headings.contains(&"H3 Zone example.org.".to_string()),
        "{md}"
    );
    assert_eq!(headings.last().unwrap(), "H3 Failed domains", "{md}");
    assert!(md.contains("> **Error:**"), "{md}");
    assert!(md.contains("- `lost.example.org.`: "), "{md}");
    assert!(md.contains("could not be read"), "{md}");
    snapshot!("plan_markdown_errors", md);
    // --json is still an alias of --format json, and the two cannot be mixed.
    let json = kmsdns()
        .current_dir(dir.path())
        .args(["-c", "kmsdns.toml", "plan", "--json", "--resolver", &dead])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["schema"], 1);
    kmsdns()
        .current_dir(dir.path())
        .args(["-c", "kmsdns.toml", "plan", "--json", "--format", "text"])
        .assert()
        .code(3);
}
