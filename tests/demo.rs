//! `mailtally demo` runs end to end and its stats match what its crowd did.

use std::process::Command;

#[test]
fn the_demo_counts_exactly_what_its_crowd_did() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mailtally"))
        .args(["demo", "--exit", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("running the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    for campaign in [
        "Welcome series",
        "Customer survey",
        "Partner invite",
        "Monthly update",
    ] {
        assert!(
            stdout.contains(campaign),
            "{campaign} missing from:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("Every figure above matches what the demo's crowd did."),
        "{stdout}"
    );
    let outbox = dir.path().join("demo/outbox");
    let sent = std::fs::read_dir(&outbox).unwrap().count();
    // 130 one-off sends, a broadcast to 24 contacts and three drip steps to 12.
    assert_eq!(
        sent,
        130 + 24 + 3 * 12,
        "one .eml per send in {}",
        outbox.display()
    );
    assert!(
        stdout.contains("step 3 of 3 sent to 12 contacts"),
        "{stdout}"
    );
}
