//! The Python package (`netcap-py`) and the Spark job (`examples/spark`), tested with
//! pytest from this suite so that `cargo test --workspace` runs them too: the extension
//! module is built from the source in the tree (release, `netcap-py/target`, the
//! directory `pip install ./netcap-py` builds in), put beside the package's Python files
//! in a temporary directory that comes first on `PYTHONPATH` (an older installed
//! `netcap` cannot stand in), and `python3 -m pytest netcap-py/tests examples/spark`
//! runs against it and this build's `netcap` binary.
//!
//! Needs python3 with pyarrow and pytest (polars, DuckDB, pyspark and Java for some
//! tests, which skip without them). Skips with a line on stderr when python3, pyarrow or
//! pytest is missing, unless NETCAP_REQUIRE_PYTHON=1 (`.ci/run` sets it, and
//! NETCAP_REQUIRE_SPARK=1 for the Spark job's tests).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python_ready() -> Result<(), String> {
    let out = Command::new("python3").args(["-c", "import pyarrow, pytest"]).output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().lines().last().unwrap_or("").to_string()),
        Err(e) => Err(format!("python3: {e}")),
    }
}

/// `netcap-py/target/release/lib_netcap.so`, built now (a no-op when up to date).
fn build_extension() -> PathBuf {
    let manifest = root().join("netcap-py/Cargo.toml");
    let target = root().join("netcap-py/target");
    let out = Command::new(env!("CARGO"))
        .args(["build", "--release", "--lib", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        // An extension module: no link to libpython (maturin sets the same).
        .env("PYO3_BUILD_EXTENSION_MODULE", "1")
        .env("PYO3_PYTHON", "python3")
        .output()
        .expect("run cargo");
    assert!(out.status.success(), "building netcap-py failed:\n{}", String::from_utf8_lossy(&out.stderr));
    target.join("release/lib_netcap.so")
}

/// The package in `dir/netcap/`: its Python files and the extension module.
fn assemble(dir: &Path, extension: &Path) {
    let pkg = dir.join("netcap");
    let _ = std::fs::remove_dir_all(&pkg);
    std::fs::create_dir_all(&pkg).expect("package directory");
    for entry in std::fs::read_dir(root().join("netcap-py/python/netcap")).expect("netcap-py/python/netcap") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), pkg.join(entry.file_name())).expect("copy");
    }
    std::fs::copy(extension, pkg.join("_netcap.abi3.so")).expect("copy the extension");
}

#[test]
fn python_package_and_spark_job() {
    if let Err(why) = python_ready() {
        assert!(
            std::env::var("NETCAP_REQUIRE_PYTHON").as_deref() != Ok("1"),
            "NETCAP_REQUIRE_PYTHON=1 but python3 cannot import pyarrow and pytest: {why}"
        );
        common::skip(format_args!("python_package_and_spark_job: skipped, python3 with pyarrow and pytest is needed ({why})"));
        return;
    }
    let extension = build_extension();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("python");
    assemble(&dir, &extension);
    let where_from = Command::new("python3")
        .args(["-c", "import netcap; print(netcap.__file__)"])
        .env("PYTHONPATH", &dir)
        .output()
        .expect("python3");
    let file = String::from_utf8_lossy(&where_from.stdout);
    assert!(file.trim().starts_with(dir.to_str().expect("utf-8")), "netcap imported from {file}");

    let out = Command::new("python3")
        .args(["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "netcap-py/tests", "examples/spark"])
        .current_dir(root())
        .env("PYTHONPATH", &dir)
        .env("NETCAP_BIN", env!("CARGO_BIN_EXE_netcap"))
        .output()
        .expect("run pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(out.status.success(), "pytest failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // Every test ran, or said why not (-rs lists skips).
    assert!(stdout.contains(" passed"), "{stdout}");
}
