//! TSIG cross-checks against BIND's implementation, without a server: `dig -y` sends a
//! signed query to a socket of ours, we verify it, and sign the reply dig then verifies.
//! Also `kmsdns keygen` against `named-checkconf` and `tsig-keygen` files against our parser.

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use data_encoding::BASE64;
use kmsdns::dns::tsig::{
    DEFAULT_FUDGE, TsigError, TsigKey, parse_key_file, sign_reply, unix_now, verify_request,
};
use kmsdns::model::TsigAlgorithm;
use kmsdns::model::{KeySource, KeySpec};

use crate::harness::cli::kmsdns;
use crate::harness::require;

/// What dig printed, and what we saw of its query.
struct DigRun {
    output: String,
    query_verified: Result<(), String>,
    tampered_query: Result<(), TsigError>,
}

/// The offset just after the question section of a message with one question.
fn question_end(msg: &[u8]) -> usize {
    let mut pos = 12;
    while msg[pos] != 0 {
        pos += 1 + msg[pos] as usize;
    }
    pos + 1 + 4
}

/// A NOERROR reply to `query` with one SOA answer, built by hand (no TSIG, no OPT).
fn soa_reply(query: &[u8]) -> Vec<u8> {
    let qend = question_end(query);
    let mut m = query[..2].to_vec();
    m.extend_from_slice(&[0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    m.extend_from_slice(&query[12..qend]);
    m.extend_from_slice(&[0xC0, 12, 0, 6, 0, 1, 0, 0, 0x0E, 0x10]);
    let mut rdata = Vec::new();
    rdata.extend_from_slice(b"\x03ns1\xC0\x0C\x0Ahostmaster\xC0\x0C");
    for v in [2_024_010_101_u32, 3600, 600, 86400, 300] {
        rdata.extend_from_slice(&v.to_be_bytes());
    }
    m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    m.extend(rdata);
    m
}

/// Runs `dig -y` against a socket of ours; verifies its query with `key` and answers with a
/// reply signed with `reply_key`.
fn dig_round_trip(key: &TsigKey, reply_key: &TsigKey) -> DigRun {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let y = format!(
        "{}:{}:{}",
        key.algorithm,
        key.name,
        BASE64.encode(key.secret.expose())
    );
    let dig = Command::new(require("dig"))
        .args(["-y", &y, "@127.0.0.1", "-p", &port.to_string()])
        .args(["+tries=1", "+timeout=3", "example.com", "SOA"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dig");
    let mut buf = [0u8; 4096];
    let (len, peer) = socket.recv_from(&mut buf).expect("dig sent no query");
    let query = &buf[..len];

    let now = unix_now();
    let verified = verify_request(query, key, now);
    let query_verified = verified.as_ref().map(|_| ()).map_err(|e| e.to_string());
    let mut tampered = query.to_vec();
    tampered[13] ^= 0x20; // flip the case of the first letter of the question name
    let tampered_query = verify_request(&tampered, key, now).map(|_| ());

    if let Ok(req) = &verified {
        let reply = sign_reply(&soa_reply(query), reply_key, &req.mac, now, DEFAULT_FUDGE)
            .expect("sign the reply");
        socket.send_to(&reply.bytes, peer).unwrap();
    }
    let out = dig.wait_with_output().unwrap();
    DigRun {
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        query_verified,
        tampered_query,
    }
}

fn assert_dig_accepts(alg: TsigAlgorithm) {
    let key = TsigKey::generate("kms-update.example", alg).unwrap();
    let run = dig_round_trip(&key, &key);
    assert_eq!(run.query_verified, Ok(()), "dig's query did not verify");
    assert!(
        matches!(run.tampered_query, Err(TsigError::BadMac { .. })),
        "{:?}",
        run.tampered_query.err()
    );
    assert!(
        run.output.contains(";; TSIG PSEUDOSECTION"),
        "{alg}: {}",
        run.output
    );
    assert!(run.output.contains("status: NOERROR"), "{}", run.output);
    assert!(run.output.contains("ns1.example.com."), "{}", run.output);
    let lower = run.output.to_ascii_lowercase();
    assert!(
        !lower.contains("verify failure")
            && !lower.contains("expected a tsig")
            && !lower.contains("couldn't verify"),
        "{alg}: {}",
        run.output
    );
}

#[test]
fn dig_accepts_our_hmac_sha256_reply() {
    assert_dig_accepts(TsigAlgorithm::HmacSha256);
}

#[test]
fn dig_accepts_our_hmac_sha1_reply() {
    assert_dig_accepts(TsigAlgorithm::HmacSha1);
}

#[test]
fn dig_accepts_our_hmac_sha384_reply() {
    assert_dig_accepts(TsigAlgorithm::HmacSha384);
}

#[test]
fn dig_accepts_our_hmac_sha512_reply() {
    assert_dig_accepts(TsigAlgorithm::HmacSha512);
}

#[test]
fn dig_rejects_a_reply_signed_with_another_secret() {
    let key = TsigKey::generate("kms-update", TsigAlgorithm::HmacSha256).unwrap();
    let forger = TsigKey::generate("kms-update", TsigAlgorithm::HmacSha256).unwrap();
    let run = dig_round_trip(&key, &forger);
    assert_eq!(run.query_verified, Ok(()));
    assert!(
        run.output
            .to_ascii_lowercase()
            .contains("tsig verify failure"),
        "{}",
        run.output
    );
}

#[test]
fn a_wrong_secret_does_not_verify_dig_query() {
    let key = TsigKey::generate("kms-update", TsigAlgorithm::HmacSha256).unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = socket.local_addr().unwrap().port().to_string();
    let y = format!(
        "hmac-sha256:kms-update:{}",
        BASE64.encode(key.secret.expose())
    );
    let mut dig = Command::new(require("dig"))
        .args([
            "-y",
            &y,
            "@127.0.0.1",
            "-p",
            &port,
            "+tries=1",
            "+timeout=1",
        ])
        .args(["example.com", "SOA"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 4096];
    let (len, _) = socket.recv_from(&mut buf).unwrap();
    let other = TsigKey::generate("kms-update", TsigAlgorithm::HmacSha256).unwrap();
    let err = verify_request(&buf[..len], &other, unix_now()).unwrap_err();
    assert!(matches!(err, TsigError::BadMac { .. }), "{err}");
    let renamed = TsigKey::new("other-key", key.algorithm, key.secret.clone()).unwrap();
    let err = verify_request(&buf[..len], &renamed, unix_now()).unwrap_err();
    assert!(matches!(err, TsigError::KeyNameMismatch { .. }), "{err}");
    dig.wait().unwrap();
}

#[test]
fn tsig_keygen_files_parse() {
    let out = Command::new(require("tsig-keygen"))
        .args(["-a", "hmac-sha384", "Mixed.Case"])
        .output()
        .expect("run tsig-keygen");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let keys = parse_key_file(Path::new("tsig-keygen"), &text).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "mixed.case");
    assert_eq!(keys[0].algorithm, TsigAlgorithm::HmacSha384);
    let b64 = text.split('"').nth(3).unwrap();
    assert_eq!(
        keys[0].secret.expose(),
        BASE64.decode(b64.as_bytes()).unwrap()
    );
    // Our writer produces the same layout as tsig-keygen: only the secret differs.
    let ours = keys[0]
        .to_bind_key_file()
        .replace("mixed.case", "Mixed.Case");
    assert_eq!(ours, text);
}

fn named_checkconf(dir: &Path, body: &str) -> std::process::Output {
    let conf = dir.join("named.conf");
    let text = format!("options {{ directory \"{}\"; }};\n{body}", dir.display());
    std::fs::write(&conf, text).unwrap();
    Command::new(require("named-checkconf"))
        .arg(&conf)
        .output()
        .expect("run named-checkconf")
}

#[test]
fn keygen_writes_a_private_file_named_accepts() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kms-update.key");
    let out = kmsdns()
        .args(["keygen", "kms-update", "-a", "hmac-sha512", "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();

    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    let b64 = text.split('"').nth(3).unwrap();
    assert_eq!(BASE64.decode(b64.as_bytes()).unwrap().len(), 64);
    assert!(!stdout.contains(b64), "stdout shows the secret:\n{stdout}");
    assert!(
        !stdout.contains(&b64[..12]),
        "stdout shows the secret:\n{stdout}"
    );

    // The printed named.conf lines work as printed.
    let include = stdout
        .lines()
        .find(|l| l.starts_with("include "))
        .expect("an include line");
    assert_eq!(include, format!("include \"{}\";", file.display()));
    let grant = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("grant "))
        .expect("an update-policy grant");
    assert!(
        grant.contains("grant kms-update name _vlmcs._tcp.") && grant.ends_with(" SRV;"),
        "{grant}"
    );
    assert!(stdout.contains("update-policy {"), "{stdout}");
    assert!(stdout.contains("[keys.kms-update]"), "{stdout}");
    std::fs::write(dir.path().join("example.com.db"), "").unwrap();
    let checked = named_checkconf(
        dir.path(),
        &format!(
            "{include}\nzone \"example.com\" {{ type primary; file \"example.com.db\"; update-policy {{ {} }}; }};\n",
            grant.trim()
        ),
    );
    assert!(checked.status.success(), "{checked:?}");

    // named-checkconf really reads the included file: a corrupted secret fails.
    let bad = dir.path().join("bad.key");
    std::fs::write(&bad, text.replace(b64, "@@not-base64@@")).unwrap();
    let checked = named_checkconf(dir.path(), &format!("include \"{}\";\n", bad.display()));
    assert!(!checked.status.success(), "{checked:?}");

    // Our loader reads the file back.
    let spec = KeySpec {
        id: "kms-update".to_string(),
        name: "kms-update".to_string(),
        source: KeySource::File(file.clone()),
        algorithm: Some(TsigAlgorithm::HmacSha512),
    };
    let key = kmsdns::app::keys::load_key(&spec).unwrap();
    assert_eq!(BASE64.encode(key.secret.expose()), b64);

    // No overwrite without --force; with it, a new secret and still 0600.
    let again = kmsdns()
        .args(["keygen", "kms-update", "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    let forced = kmsdns()
        .args(["keygen", "kms-update", "--force", "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(forced.status.success(), "{forced:?}");
    assert_ne!(std::fs::read_to_string(&file).unwrap(), text);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn keygen_to_stdout_and_bad_arguments() {
    let out = kmsdns().args(["keygen", "branch_update"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let keys = parse_key_file(Path::new("stdout"), &text).unwrap();
    assert_eq!(keys[0].name, "branch_update");
    assert_eq!(keys[0].algorithm, TsigAlgorithm::HmacSha256);
    assert_eq!(keys[0].secret.len(), 32);

    for (args, want) in [
        (vec!["keygen", "bad name"], "letters, digits"),
        (vec!["keygen", "k", "-a", "hmac-md5"], "not supported"),
        (
            vec!["keygen", "k", "-a", "sha256"],
            "hmac-sha256, hmac-sha384",
        ),
    ] {
        let out = kmsdns().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}
