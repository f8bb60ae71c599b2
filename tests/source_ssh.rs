//! A mirror over ssh (OpenSSH's sshd on loopback): key authentication, and host keys checked
//! against a known_hosts file: unknown and changed keys are refused, never accepted.

#[path = "support/git_ssh.rs"]
mod git_ssh;
#[path = "support/git.rs"]
mod git_support;

use cetus::source::git::{Auth, GitError, HostKeyError, Mirror, MirrorOptions, Update};
use git_ssh::Sshd;
use git_support::Upstream;

#[test]
fn ssh_key_with_known_hosts_and_host_key_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "config");
    let c1 = up.commit_and_push(&[("a.txt", "1")], "one");
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let sshd = Sshd::start(&keys);
    let url = sshd.url(&up.bare);
    let cache = dir.path().join("cache");
    let known_hosts = dir.path().join("known_hosts");
    let auth = |known_hosts_file: &std::path::Path| Auth::SshKey {
        key_file: sshd.client_key.clone(),
        passphrase_file: None,
        known_hosts_file: known_hosts_file.to_path_buf(),
    };
    let host = format!("[127.0.0.1]:{}", sshd.port);

    // step: the host key is listed: fetch works
    std::fs::write(&known_hosts, format!("github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n{}\n", sshd.known_hosts_line())).unwrap();
    let mirror = Mirror::open(&cache, &url, MirrorOptions { auth: auth(&known_hosts) }).unwrap();
    assert_eq!(mirror.update("main").unwrap(), Update::Advanced { from: None, to: c1.clone() });
    assert_eq!(mirror.update("main").unwrap(), Update::Unchanged { commit: c1.clone() });

    // step: the host is not listed: refused
    let unknown = dir.path().join("known_hosts_unknown");
    std::fs::write(&unknown, "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n").unwrap();
    let err = Mirror::open(&cache, &url, MirrorOptions { auth: auth(&unknown) })
        .unwrap()
        .update("main")
        .unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: ssh host key rejected"));
    let GitError::HostKey { source, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(source, HostKeyError::Unknown { .. }), "{source:?}");
    assert_eq!(
        source.to_string(),
        format!("{host}: unknown host, not in known_hosts file {}", unknown.display())
    );

    // step: the host is listed with another key: refused as a mismatch
    let other = dir.path().join("other_key");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(status.success());
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let other_key: Vec<&str> = other_pub.split_whitespace().take(2).collect();
    let changed = dir.path().join("known_hosts_changed");
    std::fs::write(&changed, format!("{host} {}\n", other_key.join(" "))).unwrap();
    let err = Mirror::open(&cache, &url, MirrorOptions { auth: auth(&changed) })
        .unwrap()
        .update("main")
        .unwrap_err();
    let GitError::HostKey { source, .. } = &err else { panic!("{err:?}") };
    assert!(matches!(source, HostKeyError::Mismatch { .. }), "{source:?}");

    // step: ssh without a known_hosts file at all: refused
    let err =
        Mirror::open(&cache, &url, MirrorOptions::default()).unwrap().update("main").unwrap_err();
    let GitError::HostKey { source, .. } = &err else { panic!("{err:?}") };
    assert_eq!(
        source.to_string(),
        format!("{host}: no known_hosts file configured; unknown ssh hosts are refused")
    );

    // The good mirror still has its last good commit after the refusals.
    assert_eq!(mirror.last_good("main").unwrap(), Some(c1));
}
