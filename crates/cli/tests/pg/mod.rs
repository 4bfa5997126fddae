//! The binary against PostgreSQL: `migrate` from a data directory, and two `serve`
//! processes on one schema taking records at the same time. Skipped with a visible
//! line when PostgreSQL is not reachable, except under CI.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use xinyong_app::testing::{ScratchSchema, server_or_skip};

use super::{bin, ok_json, run, s};

/// One HTTP/1.1 request with `Connection: close`; returns status and body.
fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let body = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap();
    let mut body = response[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&b[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[line_end + 2..line_end + 2 + size]);
        b = &b[line_end + 2 + size + 2..];
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `xinyong serve` child, killed on drop.
struct Node {
    child: Child,
    port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(data: &Path, url: &str, via_env: bool) -> Node {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = bin();
    cmd.args(["serve", "--data", s(data), "--listen", &listen]);
    // one node gets the URL from the environment, the other from the flag
    if via_env {
        cmd.env("XINYONG_DATABASE", url);
    } else {
        cmd.args(["--database", url]);
    }
    let log = std::fs::File::create(data.with_extension("log")).unwrap();
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log).spawn().unwrap();
    let node = Node { child, port };
    let started = Instant::now();
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() && http(port, "GET", "/healthz", None, None).0 == 200 {
            return node;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "node on {port} did not start: {}",
            std::fs::read_to_string(data.with_extension("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn jsonl_rows(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Two server processes on one PostgreSQL schema take records at the same time: the
/// ledger stays one (verify passes, size = events expected) and both answer alike.
#[test]
fn two_nodes_on_one_database_keep_one_ledger() {
    let Some(base) = server_or_skip("two_nodes_on_one_database_keep_one_ledger") else { return };
    let schema = ScratchSchema::new(&base, "nodes").unwrap();
    let url = schema.url();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let created = ok_json(&[
        "user",
        "add",
        "--username",
        "dept",
        "--role",
        "officer",
        "--provider",
        "测试部门",
        "--token",
        "--data",
        s(&a),
        "--database",
        &url,
    ]);
    let token = created["token"].as_str().unwrap().to_string();
    // the second node signs with the first node's key
    std::fs::create_dir_all(&b).unwrap();
    for f in ["ledger.key", "ledger.pub"] {
        std::fs::copy(a.join(f), b.join(f)).unwrap();
    }
    let input = tmp.path().join("in");
    ok_json(&["gen", "--subjects", "80", "--records", "900", "--seed", "11", "--format", "jsonl", "--out", s(&input)]);
    let mut batches = Vec::new();
    for item in ["admin_penalty", "admin_licence", "honour"] {
        for chunk in jsonl_rows(&input.join(format!("{item}.jsonl"))).chunks(20) {
            batches.push(json!({ "item": item, "rows": chunk }));
        }
    }
    assert!(batches.len() >= 10, "{} batches", batches.len());
    let node_a = start_node(&a, &url, false);
    let node_b = start_node(&b, &url, true);
    let ports = [node_a.port, node_b.port];
    // each node takes every other batch, both at once
    let results: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|n| {
                let (batches, token) = (&batches, &token);
                scope.spawn(move || {
                    batches
                        .iter()
                        .skip(n)
                        .step_by(2)
                        .map(|batch| {
                            let (status, body) = http(ports[n], "POST", "/api/v1/records", Some(token), Some(batch));
                            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                            serde_json::from_slice::<Value>(&body).unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let accepted: u64 = results.iter().map(|r| r["accepted"].as_u64().unwrap()).sum();
    let corrected: u64 = results.iter().map(|r| r["corrected"].as_u64().unwrap()).sum();
    let rows: usize = batches.iter().map(|b| b["rows"].as_array().unwrap().len()).sum();
    assert!(accepted as usize > rows * 9 / 10, "accepted {accepted} of {rows}");
    let mut subjects: Vec<&str> = batches
        .iter()
        .flat_map(|b| b["rows"].as_array().unwrap().iter().map(|r| r["统一社会信用代码"].as_str().unwrap()))
        .collect();
    subjects.sort_unstable();
    subjects.dedup();
    // every row of a clean file stores: one event per record, one per new subject
    let expected = accepted + corrected + subjects.len() as u64;

    for data in [&a, &b] {
        let verify = ok_json(&["ledger", "verify", "--data", s(data), "--database", &url]);
        assert_eq!(verify["ok"], true, "{verify}");
        assert_eq!(verify["size"], expected, "{verify}");
        assert_eq!(verify["heads_checked"], results.len() as u64, "one head per batch: {verify}");
    }
    let (mut with_records, mut compared) = (0, 0);
    for code in subjects.iter().step_by(9) {
        let path = format!("/api/v1/subjects/{code}");
        let (sa, body_a) = http(ports[0], "GET", &path, None, None);
        let (sb, body_b) = http(ports[1], "GET", &path, None, None);
        assert_eq!((sa, sb), (200, 200), "{code}");
        let (va, vb): (Value, Value) =
            (serde_json::from_slice(&body_a).unwrap(), serde_json::from_slice(&body_b).unwrap());
        assert_eq!(va, vb, "nodes disagree on {code}");
        // a subject of the registration file alone, or with records no longer public
        // today, shows none: enough of them must show some
        with_records += usize::from(va["records"].as_array().is_some_and(|r| !r.is_empty()));
        compared += 1;
    }
    assert!(with_records * 2 > compared, "{with_records} of {compared} compared subjects show records");
    let (_, head_a) = http(ports[0], "GET", "/api/v1/ledger/head", None, None);
    let (_, head_b) = http(ports[1], "GET", "/api/v1/ledger/head", None, None);
    let (head_a, head_b): (Value, Value) =
        (serde_json::from_slice(&head_a).unwrap(), serde_json::from_slice(&head_b).unwrap());
    assert_eq!(head_a["head"], head_b["head"]);
    assert_eq!(head_a["head"]["head"]["size"], expected, "{head_a}");
    drop((node_a, node_b));
    let out = run(&["ledger", "verify", "--data", s(&a), "--database", &url]);
    assert!(out.status.success());
}

/// `migrate` moves a data directory into PostgreSQL: same ledger, same subjects.
#[test]
fn migrate_a_data_directory_into_postgres() {
    let Some(base) = server_or_skip("migrate_a_data_directory_into_postgres") else { return };
    let schema = ScratchSchema::new(&base, "climig").unwrap();
    let url = schema.url();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let input = tmp.path().join("in");
    let manifest = super::generate(&input, &["--dirty", "5"]);
    for (item, file, _) in super::files(&manifest) {
        super::import(&input.join(&file), &item, &data);
    }
    let before = ok_json(&["ledger", "verify", "--data", s(&data)]);
    let report = ok_json(&["migrate", "--from", s(&data), "--to", &url]);
    assert_eq!(report["verify"]["ok"], true, "{report}");
    let after = ok_json(&["ledger", "verify", "--data", s(&data), "--database", &url]);
    assert_eq!(
        (&after["size"], &after["root"], &after["heads_checked"]),
        (&before["size"], &before["root"], &before["heads_checked"])
    );
    let head = ok_json(&["ledger", "head", "--data", s(&data)]);
    let head_pg = ok_json(&["ledger", "head", "--data", s(&data), "--database", &url]);
    assert_eq!(head, head_pg);
    let code = super::first_registered_code(&input.join("registration.csv"));
    assert_eq!(
        ok_json(&["subject", &code, "--data", s(&data)]),
        ok_json(&["subject", &code, "--data", s(&data), "--database", &url])
    );
    // the same URL again is refused: the target is no longer empty
    assert_eq!(run(&["migrate", "--from", s(&data), "--to", &url]).status.code(), Some(2));
}
