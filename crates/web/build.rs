//! Builds the workbench's assets from `web/` and embeds them.
//!
//! Two ways in, so a plain `cargo build` from a fresh clone works and an image build needs no Node in
//! its Rust stage:
//! - `LOCKSTEP_WEB_DIST=<dir>`: a directory `npm run build` already produced (the Dockerfile's node
//!   stage); it is embedded as it is.
//! - otherwise `web/` is built here: `npm ci` when `web/node_modules` is missing or older than
//!   `package-lock.json`, then `node build.mjs` writing into `OUT_DIR` (never into the source tree).
//!   Cargo reruns this only when a file under `web/src`, the lock file or the build script changes.
//!
//! Either way the output is walked and `assets.rs` is generated: one `include_bytes!` per file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-env-changed=LOCKSTEP_WEB_DIST");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dist = match env::var_os("LOCKSTEP_WEB_DIST") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            println!("cargo:rerun-if-changed={}", dir.display());
            dir
        }
        None if !web_dir().join("package.json").is_file() => {
            // Only a dependency skeleton lacks web/ (cargo-chef's cook copies manifests alone):
            // nothing to embed there, the real build that follows embeds the pages.
            println!("cargo:warning=web/ not found: lockstep-web built without pages");
            println!(
                "cargo:rerun-if-changed={}",
                web_dir().join("package.json").display()
            );
            fs::write(
                out.join("assets.rs"),
                "pub static FILES: &[(&str, &[u8])] = &[];\n",
            )
            .expect("write assets.rs into OUT_DIR");
            return;
        }
        None => build_from_sources(&out),
    };
    if !dist.join("index.html").is_file() {
        fail(&format!(
            "{} holds no index.html: build the workbench with `npm ci && npm run build` in web/",
            dist.display()
        ));
    }
    let mut files = Vec::new();
    collect(&dist, &dist, &mut files);
    files.sort();
    let mut code = String::from("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        writeln!(
            code,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    fs::write(out.join("assets.rs"), code).expect("write assets.rs into OUT_DIR");
}

fn web_dir() -> PathBuf {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    manifest.join("../../web")
}

fn build_from_sources(out: &Path) -> PathBuf {
    let web = web_dir();
    for watched in [
        "src",
        "build.mjs",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(watched).display());
    }
    let lock = web.join("package-lock.json");
    let installed = web.join("node_modules/.package-lock.json");
    if stale(&installed, &lock) {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&web),
            "npm ci",
        );
    }
    let dist = out.join("web-dist");
    run(
        Command::new("node")
            .arg("build.mjs")
            .env("LOCKSTEP_WEB_OUT", &dist)
            .current_dir(&web),
        "node build.mjs",
    );
    dist
}

/// True when `made` is missing or older than `from`.
fn stale(made: &Path, from: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(made), modified(from)) {
        (Some(m), Some(f)) => m < f,
        _ => true,
    }
}

fn run(cmd: &mut Command, what: &str) {
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("`{what}` in web/ failed ({s})")),
        Err(e) => fail(&format!(
            "could not run `{what}` ({e}): the workbench needs Node.js 20 and npm to build, or \
             LOCKSTEP_WEB_DIST naming an already built web/dist"
        )),
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
    for entry in entries {
        let path = entry.expect("read_dir entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            let rel = rel.to_string_lossy().replace('\\', "/");
            let abs = fs::canonicalize(&path).expect("canonical path");
            files.push((rel, abs));
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("lockstep-web: {message}");
    std::process::exit(1);
}
