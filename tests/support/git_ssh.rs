//! Test helper: OpenSSH's `sshd` on loopback, serving git over ssh to a generated client key
//! as the current user. Needs the Debian package `openssh-server` (see scripts/setup).
//!
//! Include with `#[path = "support/git_ssh.rs"] mod git_ssh;` next to `git_support`.
#![allow(dead_code)]

use super::git_support::{READY_TIMEOUT, free_port};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

const SSHD: &str = "/usr/sbin/sshd";

/// A running sshd; killed on drop.
pub struct Sshd {
    pub port: u16,
    pub user: String,
    /// The client's private key, authorized for `user`.
    pub client_key: PathBuf,
    /// `<type> <base64>` of the server's host key.
    pub host_key: String,
    child: Child,
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "cetus-test", "-f"])
        .arg(path)
        .status()
        .expect("run ssh-keygen");
    assert!(status.success(), "ssh-keygen failed");
}

impl Sshd {
    /// Starts sshd with fresh host and client keys under `dir`.
    pub fn start(dir: &Path) -> Self {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install openssh-server (scripts/setup)"
        );
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        let (host_key, client_key) = (dir.join("host_key"), dir.join("client_key"));
        keygen(&host_key);
        keygen(&client_key);
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
        let host_pub = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
        let host_key_line: Vec<&str> = host_pub.split_whitespace().take(2).collect();
        // sshd running as root needs its privilege separation directory.
        if user == "root" {
            std::fs::create_dir_all("/run/sshd").unwrap();
        }
        for _attempt in 0..5 {
            let port = free_port();
            let config = dir.join("sshd_config");
            std::fs::write(
                &config,
                format!(
                    "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {keys}\n\
                     PidFile {pid}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                     PubkeyAuthentication yes\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n\
                     AllowUsers {user}\nLogLevel INFO\n",
                    host = host_key.display(),
                    keys = dir.join("authorized_keys").display(),
                    pid = dir.join("sshd.pid").display(),
                ),
            )
            .unwrap();
            let mut child = Command::new(SSHD)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn sshd");
            let stderr = child.stderr.take().unwrap();
            let (ready_tx, ready_rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains("Server listening on") {
                        let _ = ready_tx.send(Ok(()));
                    } else if line.contains("Cannot bind") || line.contains("fatal") {
                        let _ = ready_tx.send(Err(line));
                    }
                }
            });
            match ready_rx.recv_timeout(READY_TIMEOUT) {
                Ok(Ok(())) => {
                    return Self {
                        port,
                        user,
                        client_key,
                        host_key: host_key_line.join(" "),
                        child,
                    };
                }
                other => {
                    eprintln!("sshd did not start on port {port}: {other:?}");
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        panic!("sshd did not start");
    }

    /// The ssh:// URL of the repository at absolute `path`.
    pub fn url(&self, path: &Path) -> String {
        format!("ssh://{}@127.0.0.1:{}{}", self.user, self.port, path.display())
    }

    /// A known_hosts line for this server.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_key)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
