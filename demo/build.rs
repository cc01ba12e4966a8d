//! Records the commit the demo is built from, for `greenthread bench`'s
//! header: `git rev-parse --short HEAD` in this source tree, exported as
//! `GREENTHREAD_BUILT_FROM` (absent when git or a checkout is not there, and
//! the header then says "unknown").

use std::path::Path;
use std::process::{Command, Stdio};

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let out = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    if let Ok(out) = out {
        let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !hash.is_empty() {
            println!("cargo:rustc-env=GREENTHREAD_BUILT_FROM={hash}");
        }
    }
    // Rebuild when HEAD moves: HEAD itself (a checkout of another branch)
    // and the ref it points to (a commit on this branch). In a worktree or
    // submodule `.git` is a file naming the real git directory.
    if let Some(git_dir) = git_path(&dir, "--git-dir") {
        let head = git_dir.join("HEAD");
        if head.exists() {
            println!("cargo:rerun-if-changed={}", head.display());
        }
        if let Ok(text) = std::fs::read_to_string(&head) {
            if let Some(r) = text.trim().strip_prefix("ref: ") {
                let common = git_path(&dir, "--git-common-dir").unwrap_or(git_dir);
                let reference = common.join(r);
                if reference.exists() {
                    println!("cargo:rerun-if-changed={}", reference.display());
                }
                let packed = common.join("packed-refs");
                if packed.exists() {
                    println!("cargo:rerun-if-changed={}", packed.display());
                }
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// `git rev-parse <flag>` (a git directory) in `dir`, absolute.
fn git_path(dir: &str, flag: &str) -> Option<std::path::PathBuf> {
    let out = Command::new("git")
        .args(["rev-parse", "--path-format=absolute", flag])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let path = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !path.is_empty() && Path::new(&path).exists()).then(|| path.into())
}
