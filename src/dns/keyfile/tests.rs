//! Unit tests of `dns::keyfile`.
use super::*;

fn parse(text: &str) -> Result<Vec<TsigKey>, KeyError> {
    parse_key_file(Path::new("test.key"), text)
}

fn line_of(err: KeyError) -> (usize, String) {
    match err {
        KeyError::Syntax { line, message, .. } => (line, message),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn several_keys_with_comments_and_odd_layout() {
    let text = "# generated\n// by hand\n/* a\n block */ key \"Kms-Update.\" {\n\talgorithm hmac-sha256; secret \"AAECAwQ=\";\n};\nkey other{algorithm\nHMAC-SHA512;secret\n\"/w==\";};\n";
    let keys = parse(text).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].name, "kms-update");
    assert_eq!(keys[0].algorithm, TsigAlgorithm::HmacSha256);
    assert_eq!(keys[0].secret.expose(), &[0, 1, 2, 3, 4]);
    assert_eq!(keys[1].name, "other");
    assert_eq!(keys[1].algorithm, TsigAlgorithm::HmacSha512);
    assert_eq!(keys[1].secret.expose(), &[0xff]);
}

#[test]
fn round_trips_through_the_bind_format() {
    let key = TsigKey::generate("round.trip", TsigAlgorithm::HmacSha384).unwrap();
    let text = to_bind_key_file(&key);
    assert!(text.starts_with("key \"round.trip\" {\n\talgorithm hmac-sha384;\n\tsecret \""));
    let back = parse(&text).unwrap();
    assert_eq!(back[0].secret.expose(), key.secret.expose());
}

#[test]
fn errors_name_the_line_and_never_the_secret() {
    let (line, msg) = line_of(
        parse("key \"a\" {\n algorithm hmac-sha256;\n secret \"@@notbase64@@\";\n};").unwrap_err(),
    );
    assert_eq!(line, 3);
    assert!(msg.contains("not valid base64"), "{msg}");
    assert!(!msg.contains("notbase64"), "{msg}");

    let (line, msg) =
        line_of(parse("key a {\n\n algorithm hmac-md5;\n secret \"AA==\";\n};").unwrap_err());
    assert_eq!(line, 3);
    assert!(msg.contains("not supported"), "{msg}");

    let (line, msg) =
        line_of(parse("key a {\n algorithm hmac-sha256;\n secret \"AA==\"\n};").unwrap_err());
    assert_eq!(line, 4);
    assert!(msg.contains("expected `;`"), "{msg}");

    let (line, msg) = line_of(parse("key a {\n secret \"AA==\";\n};").unwrap_err());
    assert_eq!(line, 1);
    assert!(msg.contains("no `algorithm`"), "{msg}");

    let (line, msg) = line_of(parse("\n\n/* never closed\nkey a {").unwrap_err());
    assert_eq!(line, 3);
    assert!(msg.contains("never closed"), "{msg}");

    let (_, msg) = line_of(parse("# only a comment\n").unwrap_err());
    assert!(msg.contains("no `key` statement"), "{msg}");

    let (line, msg) = line_of(parse("options { };").unwrap_err());
    assert_eq!(line, 1);
    assert!(msg.contains("`options`"), "{msg}");
}

/// Where a test key comes from (the config's `KeySource`, which this layer does not know).
enum KeySource {
    File(std::path::PathBuf),
    Env(String),
}

struct Spec {
    name: String,
    source: KeySource,
    algorithm: Option<TsigAlgorithm>,
}

impl Spec {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef {
            id: "kms",
            name: &self.name,
            algorithm: self.algorithm,
        }
    }
}

fn spec(name: &str, source: KeySource, algorithm: Option<TsigAlgorithm>) -> Spec {
    Spec {
        name: name.to_string(),
        source,
        algorithm,
    }
}

fn load_key(s: &Spec) -> Result<TsigKey, KeyError> {
    match &s.source {
        KeySource::File(p) => load_from_file(&s.key_ref(), p),
        KeySource::Env(v) => load_from_env(&s.key_ref(), v),
    }
}

#[test]
fn load_key_picks_the_named_key_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.key");
    let a = TsigKey::generate("first", TsigAlgorithm::HmacSha256).unwrap();
    let b = TsigKey::generate("second", TsigAlgorithm::HmacSha512).unwrap();
    std::fs::write(&path, a.to_bind_key_file() + &b.to_bind_key_file()).unwrap();
    let file = || KeySource::File(path.clone());

    let got = load_key(&spec("Second.", file(), None)).unwrap();
    assert_eq!(got, b);
    let got = load_key(&spec("first", file(), Some(TsigAlgorithm::HmacSha256))).unwrap();
    assert_eq!(got, a);

    let err = load_key(&spec("third", file(), None))
        .unwrap_err()
        .to_string();
    assert!(err.contains("found: first, second"), "{err}");
    let err = load_key(&spec("first", file(), Some(TsigAlgorithm::HmacSha384)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hmac-sha256") && err.contains("hmac-sha384"),
        "{err}"
    );
    let missing = KeySource::File(dir.path().join("nope.key"));
    let err = load_key(&spec("first", missing, None))
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope.key"), "{err}");
}

#[test]
fn env_values_in_both_forms() {
    let k = TsigKey::generate("kms", TsigAlgorithm::HmacSha384).unwrap();
    let b64 = BASE64.encode(k.secret.expose());
    let s = |alg| spec("kms", KeySource::Env("V".to_string()), alg);

    let plain = key_from_env_value(&s(None).key_ref(), "V", &b64).unwrap();
    assert_eq!(plain.algorithm, TsigAlgorithm::HmacSha256);
    assert_eq!(plain.secret, k.secret);
    let plain =
        key_from_env_value(&s(Some(TsigAlgorithm::HmacSha384)).key_ref(), "V", &b64).unwrap();
    assert_eq!(plain, k);
    let y = key_from_env_value(&s(None).key_ref(), "V", &format!("hmac-sha384:KMS:{b64}")).unwrap();
    assert_eq!(y, k);
    let y = key_from_env_value(&s(None).key_ref(), "V", &format!("kms:{b64}")).unwrap();
    assert_eq!(y.algorithm, TsigAlgorithm::HmacSha256);

    let errors = [
        (s(None), format!("other:{b64}"), "expects \"kms\""),
        (
            s(Some(TsigAlgorithm::HmacSha256)),
            format!("hmac-sha384:kms:{b64}"),
            "make them agree",
        ),
        (s(None), format!("hmac-md5:kms:{b64}"), "not supported"),
        (s(None), "not*base64!".to_string(), "not valid base64"),
        (s(None), "  ".to_string(), "not set or empty"),
    ];
    for (sp, value, want) in errors {
        let err = key_from_env_value(&sp.key_ref(), "V", &value)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err}");
        assert!(err.contains("V") && err.contains("kms"), "{err}");
        assert!(!err.contains(&b64) && !err.contains("not*base64"), "{err}");
    }
    let unset = spec(
        "kms",
        KeySource::Env("KMSDNS_TEST_SURELY_UNSET_VARIABLE".to_string()),
        None,
    );
    let err = load_key(&unset).unwrap_err().to_string();
    assert!(
        err.contains("KMSDNS_TEST_SURELY_UNSET_VARIABLE") && err.contains("`kms`"),
        "{err}"
    );
}

#[test]
fn copies_the_key_statement_verbatim() {
    let text = "# made by tsig-keygen\nkey \"other\" {\n\talgorithm hmac-sha256;\n\tsecret \"AAAA\";\n};\n\
                key \"kms-update\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0\";\n};\n";
    assert_eq!(
        extract_key_statement(text, "kms-update").as_deref(),
        Some("key \"kms-update\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0\";\n};")
    );
    assert_eq!(extract_key_statement(text, "missing"), None);
    assert_eq!(
        extract_key_statement("// key \"x\" { };\nkey x { secret \"s\"; };", "x").as_deref(),
        Some("key x { secret \"s\"; };")
    );
}
