//! `render powershell` parses as PowerShell. No PowerShell runs on these machines, so every
//! script goes through a real PowerShell grammar (tree-sitter-powershell) and any ERROR or
//! MISSING node fails the test with its line; then every command in the tree must be a known
//! cmdlet with parameters it has (or a function the script defines), which catches the typos
//! a grammar cannot. Negative controls prove both checks catch broken scripts. Also: what the Microsoft side needs is in the script (`-ComputerName` on
//! every record command, the node grant, idempotence checks).

use std::path::{Path, PathBuf};

use crate::harness::cli::{kmsdns, write_config};

/// Every syntax error tree-sitter-powershell finds in `script`, as `LINE:COL: what — line`.
fn syntax_errors(script: &str) -> Vec<String> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("load the PowerShell grammar");
    let tree = parser.parse(script, None).expect("parse");
    let lines: Vec<&str> = script.lines().collect();
    let mut errors: Vec<((usize, usize), String)> = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let at = node.start_position();
            let what = if node.is_missing() {
                format!("MISSING {}", node.kind())
            } else {
                "ERROR".to_owned()
            };
            let text = format!(
                "{}:{}: {what} — {}",
                at.row + 1,
                at.column + 1,
                lines.get(at.row).unwrap_or(&"")
            );
            errors.push(((at.row, at.column), text));
        }
        if node.has_error() {
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
    }
    errors.sort();
    errors.into_iter().map(|(_, text)| text).collect()
}

/// The line of the first error (0 when there is none).
fn first_line(errors: &[String]) -> usize {
    errors
        .first()
        .and_then(|e| e.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Panics listing the syntax errors of `script` (named `what`).
fn assert_parses(what: &str, script: &str) {
    let errors = syntax_errors(script);
    assert!(
        errors.is_empty(),
        "{what}: PowerShell syntax errors:\n{}\n--- script ---\n{script}",
        errors.join("\n")
    );
}

/// The cmdlets a rendered script may run and the parameters it may give them, from Microsoft's
/// reference for the DnsServer module and PowerShell's own cmdlets (names are
/// case-insensitive there; we write them as documented). Functions the script defines itself
/// are allowed too, with no parameters by name.
const KNOWN_COMMANDS: &[(&str, &[&str])] = &[
    (
        "Get-DnsServerResourceRecord",
        &[
            "-ComputerName",
            "-ZoneName",
            "-Name",
            "-RRType",
            "-ErrorAction",
        ],
    ),
    (
        "Remove-DnsServerResourceRecord",
        &["-ComputerName", "-ZoneName", "-InputObject", "-Force"],
    ),
    (
        "Add-DnsServerResourceRecord",
        &[
            "-Srv",
            "-ComputerName",
            "-ZoneName",
            "-Name",
            "-DomainName",
            "-Priority",
            "-Weight",
            "-Port",
            "-TimeToLive",
        ],
    ),
    ("Get-DnsServerZone", &["-ComputerName", "-Name"]),
    ("New-TimeSpan", &["-Seconds"]),
    ("New-Object", &[]),
    ("Where-Object", &[]),
    ("Write-Warning", &[]),
    ("Write-Host", &[]),
];

/// Every command `script` runs is a known cmdlet with known parameters (see
/// [`KNOWN_COMMANDS`]) or a function the script defines: a misspelt cmdlet or parameter, which
/// parses fine, fails here.
fn assert_known_commands(what: &str, script: &str) {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("load the PowerShell grammar");
    let tree = parser.parse(script, None).expect("parse");
    let text = |n: tree_sitter::Node<'_>| script[n.byte_range()].to_owned();
    let mut defined = Vec::new();
    let mut used = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind() == "function_statement" {
            let mut cursor = node.walk();
            let name = node
                .named_children(&mut cursor)
                .find(|c| c.kind() == "function_name");
            defined.extend(name.map(text));
        }
        if node.kind() == "command"
            && let Some(name) = node.child_by_field_name("command_name")
        {
            let mut params = Vec::new();
            if let Some(elements) = node.child_by_field_name("command_elements") {
                let mut cursor = elements.walk();
                for e in elements.named_children(&mut cursor) {
                    if e.kind() == "command_parameter" {
                        params.push(text(e));
                    }
                }
            }
            used.push((text(name), params, node.start_position().row + 1));
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    assert!(
        defined.iter().any(|f| f == "Test-KmsSrv"),
        "{what}: no functions found ({defined:?})"
    );
    for (name, params, line) in used {
        if defined.contains(&name) {
            assert!(params.is_empty(), "{what}:{line}: {name} {params:?}");
            continue;
        }
        let known = KNOWN_COMMANDS
            .iter()
            .find(|(cmd, _)| *cmd == name)
            .unwrap_or_else(|| panic!("{what}:{line}: unknown command `{name}`"));
        for p in params {
            assert!(
                known.1.contains(&p.as_str()),
                "{what}:{line}: {name} has no parameter `{p}` (known: {:?})",
                known.1
            );
        }
    }
}

fn render(dir: &Path, config: &str) -> String {
    let out = kmsdns()
        .current_dir(dir)
        .args(["render", "powershell", "-c", config])
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Names at the edges of what a config allows: digits-only and double-hyphen labels, an IDN
/// zone, a server id with quotes, `$` and a backtick (it lands in a comment), the largest
/// SRV values, a domain with no hosts.
const ODD_NAMES: &str = r#"
[servers."dc 01 'x' $y`z"]
address = "dc1.corp.example.com"

[servers.v6]
address = "[2001:db8::53]:53"

[[hosts]]
name = "kms-01.corp.example.com"

[[hosts]]
name = "xn--bcher-kva.example"
port = 65535
priority = 65535
weight = 65535

[[domains]]
name = "0-9.x--y.example.com"
zone = "example.com"
server = "dc 01 'x' $y`z"

[[domains]]
name = "bücher.example"
prune = false

[[domains]]
name = "a.b.c.d.e.f.deep.example.net"
zone = "example.net"
server = "v6"
hosts = ["kms-01.corp.example.com"]

[[domains]]
name = "retired.example.org"
hosts = []
"#;

/// 120 domains in 12 zones, every fourth one with prune = false.
fn many_domains() -> String {
    let mut toml = String::from(
        "[servers.dc]\naddress = \"dc1.corp.example.com\"\n\n\
         [[hosts]]\nname = \"kms1.corp.example.com\"\n\n\
         [[hosts]]\nname = \"kms2.corp.example.com\"\npriority = 10\n",
    );
    for z in 0..12 {
        for d in 0..10 {
            toml.push_str(&format!(
                "\n[[domains]]\nname = \"site{d}.zone{z}.example\"\nzone = \"zone{z}.example\"\n"
            ));
            if d % 2 == 0 {
                toml.push_str("server = \"dc\"\n");
            }
            if d % 4 == 3 {
                toml.push_str("prune = false\n");
            }
        }
    }
    toml
}

#[test]
fn every_rendered_powershell_script_parses() {
    assert_parses(
        "config.example.toml",
        &render(&root(), "config.example.toml"),
    );
    let fixtures = root().join("tests/fixtures");
    let multi = render(&fixtures, "multi.toml");
    assert_parses("multi.toml", &multi);
    assert_known_commands("multi.toml", &multi);

    for (what, toml) in [
        ("odd names", ODD_NAMES.to_owned()),
        ("many domains", many_domains()),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        write_config(tmp.path(), &toml);
        let script = render(tmp.path(), "kmsdns.toml");
        assert_parses(what, &script);
        assert_known_commands(what, &script);
        // Every record command names its server; none goes to an implicit local server.
        for line in script
            .lines()
            .filter(|l| l.contains("-DnsServerResourceRecord "))
        {
            assert!(line.contains("-ComputerName $server"), "{what}: {line}");
        }
    }

    // With --out-dir every file (header, parameters and functions included) parses alone.
    let out = tempfile::tempdir().unwrap();
    kmsdns()
        .current_dir(&fixtures)
        .args(["render", "powershell", "-c", "multi.toml", "--out-dir"])
        .arg(out.path())
        .assert()
        .success();
    let mut files = 0;
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_parses(&path.display().to_string(), &text);
        assert_known_commands(&path.display().to_string(), &text);
        assert!(text.contains("param("), "{}", path.display());
        files += 1;
    }
    assert_eq!(files, 5);
}

#[test]
fn the_script_sets_up_least_privilege_on_the_node() {
    let tmp = tempfile::tempdir().unwrap();
    write_config(tmp.path(), ODD_NAMES);
    let script = render(tmp.path(), "kmsdns.toml");
    // Parameters: the server for domains without one defaults to the logon DC; the account
    // to grant is optional.
    assert!(script.contains("[string]$DnsServer = $(if ($env:LOGONSERVER)"));
    assert!(script.contains("[string]$KmsdnsAccount = ''"));
    // The grant: Read/Write Property on the node's AD object, found under the zone's DN.
    assert!(script.contains("'ReadProperty, WriteProperty'"));
    assert!(script.contains("$dn = \"DC=$Name,$($info.DistinguishedName)\""));
    assert!(script.contains("dsacls \"<that DN>\" /G \"CORP\\svc-kmsdns:RPWP\""));
    // One grant per domain that ends up with records (not for `retired`, which has none).
    let grants = script
        .lines()
        .filter(|l| l.starts_with("if ($KmsdnsAccount) { Grant-KmsNodeWrite "))
        .count();
    assert_eq!(grants, 3, "{script}");
    // Idempotent: every add is guarded by a check of what exists.
    let adds = script
        .lines()
        .filter(|l| {
            l.trim_start()
                .starts_with("Add-DnsServerResourceRecord -Srv")
        })
        .count();
    let guards = script
        .lines()
        .filter(|l| l.starts_with("if (-not ($existing | Where-Object"))
        .count();
    assert_eq!((adds, guards), (5, 5), "{script}");
    assert!(script.contains("$server = $DnsServer\n"));
    assert!(script.contains("$server = '2001:db8::53'\n"));
    assert!(script.contains("$name = '_vlmcs._tcp.a.b.c.d.e.f.deep'\n"));
}

/// The checker is not vacuous: broken scripts are caught, on the right line.
#[test]
fn the_powershell_checker_catches_broken_scripts() {
    let good = "$zone = 'example.com'\nif ($zone) {\n    Write-Host $zone\n}\n";
    assert_eq!(syntax_errors(good), Vec::<String>::new());

    let unclosed_brace = "$zone = 'example.com'\nif ($zone) {\n    Write-Host $zone\n";
    let errors = syntax_errors(unclosed_brace);
    assert_eq!(errors, ["3:21: MISSING } —     Write-Host $zone"]);

    let unclosed_string = "$zone = 'example.com\nWrite-Host $zone\n";
    let errors = syntax_errors(unclosed_string);
    assert_eq!(first_line(&errors), 1, "an unclosed string: {errors:?}");

    let bad_paren = "$a = 1\n$b = (2 + \n$c = 3\n";
    let errors = syntax_errors(bad_paren);
    assert_eq!(
        first_line(&errors),
        2,
        "an unclosed parenthesis: {errors:?}"
    );

    // A real rendered script with one brace removed fails too.
    let script = render(&root(), "config.example.toml");
    let broken = script.replacen(
        "foreach ($r in $existing) {",
        "foreach ($r in $existing)",
        1,
    );
    let errors = syntax_errors(&broken);
    assert!(
        !errors.is_empty(),
        "a rendered script missing a brace parsed"
    );
    let line = script
        .lines()
        .position(|l| l.starts_with("foreach ($r in $existing) {"))
        .unwrap()
        + 1;
    assert_eq!(first_line(&errors), line, "{errors:?}");

    // A parenthesis and a quote missing in record commands.
    let add = script
        .lines()
        .position(|l| l.contains("Add-DnsServerResourceRecord"))
        .unwrap()
        + 1;
    let errors = syntax_errors(&script.replacen("-Seconds 3600)", "-Seconds 3600", 1));
    assert!(
        errors.iter().any(|e| e.starts_with(&format!("{add}:"))),
        "{errors:?}"
    );
    // A misspelt parameter or cmdlet parses, but the command check catches it.
    for typo in [
        script.replacen("-TimeToLive", "-TimeToLife", 1),
        script.replacen(
            "Add-DnsServerResourceRecord",
            "Add-DnsServerResourceRecords",
            1,
        ),
    ] {
        assert_eq!(syntax_errors(&typo), Vec::<String>::new());
        let caught = std::panic::catch_unwind(|| assert_known_commands("typo", &typo));
        assert!(caught.is_err(), "a misspelt command or parameter passed");
    }
    let errors = syntax_errors(&script.replacen("-ComputerName $server", "-ComputerName 'x", 1));
    assert!(
        !errors.is_empty(),
        "an unclosed quote in a rendered script parsed"
    );
}

/// README's ```` ```powershell ```` blocks (the AD set-up) parse too.
#[test]
fn readme_powershell_blocks_parse() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        let trimmed = line.trim();
        match &mut current {
            None if trimmed == "```powershell" => current = Some(String::new()),
            None => {}
            Some(_) if trimmed == "```" => blocks.push(current.take().unwrap()),
            Some(body) => {
                body.push_str(trimmed);
                body.push('\n');
            }
        }
    }
    assert!(
        blocks.len() >= 2,
        "README's AD section has PowerShell blocks"
    );
    for block in &blocks {
        assert_parses("a README powershell block", block);
    }
}
