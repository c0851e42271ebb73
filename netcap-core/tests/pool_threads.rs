//! An analysis on several threads leaves no thread behind: its pool's workers are
//! joined before `Analysis::run` returns (a library user's process, and a fuzzer's leak
//! check, see none of them afterwards). A test binary of its own: no other test's run
//! has threads alive beside it.

#![cfg(target_os = "linux")]

use std::path::Path;

use netcap_core::analysis::Analysis;

/// The names of this process's threads, from /proc.
fn thread_names() -> Vec<String> {
    let mut names = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let comm = task.expect("task").path().join("comm");
        if let Ok(name) = std::fs::read_to_string(comm) {
            names.push(name.trim_end().to_string());
        }
    }
    names
}

#[test]
fn a_run_on_three_threads_leaves_none_behind() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab/flannel");
    let inputs = ["client_pod.pcap", "client_vxlan.pcap", "server_pod.pcap"].map(|f| root.join(f));
    for _ in 0..20 {
        let outcome = Analysis::new().paths(&inputs).expect("inputs").threads(3).run(&mut ()).expect("run");
        assert_eq!(outcome.points.len(), 3);
        assert!(outcome.frames > 0);
        let workers: Vec<String> = thread_names().into_iter().filter(|n| n.starts_with("netcap-")).collect();
        assert!(workers.is_empty(), "threads still alive after the run: {workers:?}");
    }
}
