//! The real `baas` binary as a child process, for the edge and secrets
//! tests: started with given flags on an OS-chosen port, its address read
//! from the banner, killed when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baas-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baas"));
    cmd.current_dir(dir)
        .arg("serve")
        .args(args)
        .env("BAAS_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env_remove("BAAS_SECRET_KEY")
        .env_remove("BAAS_ADMIN_KEY")
        .env_remove("BAAS_DB");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Start `baas serve ARGS` in `dir` and wait for its banner.
pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut child = command(dir, args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start baas");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).expect("read banner") == 0 {
            panic!("baas exited early; printed {first:?}");
        }
        if first.is_empty() {
            first = line.clone();
        }
        if line.starts_with("Stop with") {
            break;
        }
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = out.read_to_end(&mut sink);
    });
    let addr = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .and_then(|u| u.trim_start_matches("http://").split('/').next())
        .and_then(|a| a.parse().ok())
        .expect("address in the banner");
    Server { child, addr }
}

/// Run `baas serve ARGS` expecting it to fail at start: its stderr.
pub fn start_fails(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = command(dir, args, env)
        .stdin(Stdio::null())
        .output()
        .expect("run baas");
    assert!(
        !out.status.success(),
        "baas started: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Send SIGTERM and wait (at most `limit`) for the exit: status and time taken.
pub fn sigterm(server: &mut Server, limit: Duration) -> (Option<ExitStatus>, Duration) {
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Some(status) = server.child.try_wait().expect("wait") {
            return (Some(status), t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (None, t0.elapsed())
}
