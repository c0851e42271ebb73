//! The sources the hints of findings cite, in one table: a reader of a ticket can open
//! each one, and each says what the hint says it says. Hints are built from this table
//! ([`outer_checksum_hint`]); a test checks that every citation in a hint is in the
//! table, that each entry's citation and address name the same thing, and that
//! `docs/correlation.md` lists every address.

/// One source a hint cites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    /// The citation as a hint prints it: `flannel issue 1279`, `kernel commit
    /// ea64d8d6c675`.
    pub cite: &'static str,
    /// Where to read it.
    pub url: &'static str,
    /// What the source says that the hint relies on.
    pub says: &'static str,
}

/// flannel's report of the VXLAN checksum corruption behind NAT.
pub const FLANNEL_ISSUE_1279: Reference = Reference {
    cite: "flannel issue 1279",
    url: "https://github.com/flannel-io/flannel/issues/1279",
    says: "VXLAN packets whose outer UDP checksum was corrupted by NAT are dropped by the receiving node",
};

/// flannel's first workaround: checksum offload off on its VXLAN device.
pub const FLANNEL_PR_1282: Reference = Reference {
    cite: "flannel PR 1282",
    url: "https://github.com/flannel-io/flannel/pull/1282",
    says: "disable TX and RX checksum offload on VXLAN interfaces: some kernels send a wrong checksum the receiver discards",
};

/// flannel's troubleshooting note with the exact command.
pub const FLANNEL_PR_1929: Reference = Reference {
    cite: "flannel PR 1929",
    url: "https://github.com/flannel-io/flannel/pull/1929",
    says: "`ethtool -K flannel.1 tx-checksum-ip-generic off` when the node's address is behind NAT and VXLAN UDP checksums are corrupted",
};

/// Calico's report of the same failure on `vxlan.calico`.
pub const CALICO_ISSUE_3145: Reference = Reference {
    cite: "calico issue 3145",
    url: "https://github.com/projectcalico/calico/issues/3145",
    says: "TX checksum offload on vxlan.calico causes 63-second delays (SYN retransmissions) to NodePorts and ClusterIPs",
};

/// Calico's fix: felix turns the offload off on its VXLAN device.
pub const FELIX_PR_2811: Reference = Reference {
    cite: "felix PR 2811",
    url: "https://github.com/projectcalico/felix/pull/2811",
    says: "felix disables checksum offload on the vxlan.calico device",
};

/// Kubernetes' report: the 63-second service delay through VXLAN.
pub const KUBERNETES_ISSUE_88986: Reference = Reference {
    cite: "kubernetes issue 88986",
    url: "https://github.com/kubernetes/kubernetes/issues/88986",
    says: "63-second delays to services over VXLAN: the encapsulated SYN reaches the other node and is dropped for its UDP checksum",
};

/// The kernel fix.
pub const KERNEL_COMMIT_EA64D8D6C675: Reference = Reference {
    cite: "kernel commit ea64d8d6c675",
    url: "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id=ea64d8d6c675c0bb712689b13810301de9d8f77a",
    says: "netfilter: nat: never update the UDP checksum when it's 0 (Linux 5.7; backported to 5.6.13, 5.4.41, 4.19.123, 4.14.181)",
};

/// Every source a hint may cite.
pub const REFERENCES: [Reference; 7] = [
    FLANNEL_ISSUE_1279,
    FLANNEL_PR_1282,
    FLANNEL_PR_1929,
    CALICO_ISSUE_3145,
    FELIX_PR_2811,
    KUBERNETES_ISSUE_88986,
    KERNEL_COMMIT_EA64D8D6C675,
];

/// The hint of `dropped_bad_outer_checksum`: the known cause, where it is described,
/// the workaround and the fix.
pub fn outer_checksum_hint() -> String {
    format!(
        "A wrong outer UDP checksum on VXLAN is the known bug of VXLAN TX checksum offload \
         combined with NAT on the sending node ({}, {}, {}); the kernel fix is \"netfilter: \
         nat: never update the UDP checksum when it's 0\" ({}, in Linux 5.7, backported to \
         5.6.13, 5.4.41, 4.19.123 and 4.14.181). Work around it with `ethtool -K flannel.1 \
         tx-checksum-ip-generic off` (or `vxlan.calico`) on the sending node ({}, {}, {}), \
         or upgrade the kernel.",
        FLANNEL_ISSUE_1279.cite,
        CALICO_ISSUE_3145.cite,
        KUBERNETES_ISSUE_88986.cite,
        KERNEL_COMMIT_EA64D8D6C675.cite,
        FLANNEL_PR_1929.cite,
        FLANNEL_PR_1282.cite,
        FELIX_PR_2811.cite,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(project, kind, id)` of a citation: `flannel issue 1279`.
    fn parts(cite: &str) -> (&str, &str, &str) {
        let mut it = cite.split(' ');
        let (Some(p), Some(k), Some(id), None) = (it.next(), it.next(), it.next(), it.next())
        else {
            panic!("citation {cite:?} is not `project kind id`");
        };
        (p, k, id)
    }

    #[test]
    fn every_reference_cites_what_its_address_names() {
        for r in REFERENCES {
            let (project, kind, id) = parts(r.cite);
            assert!(!r.says.is_empty(), "{}: says nothing", r.cite);
            match kind {
                "issue" | "PR" => {
                    let repo = match project {
                        "flannel" => "flannel-io/flannel",
                        "calico" => "projectcalico/calico",
                        "felix" => "projectcalico/felix",
                        "kubernetes" => "kubernetes/kubernetes",
                        other => panic!("{}: unknown project {other}", r.cite),
                    };
                    let path = if kind == "issue" { "issues" } else { "pull" };
                    assert!(id.chars().all(|c| c.is_ascii_digit()), "{}: number", r.cite);
                    assert_eq!(r.url, format!("https://github.com/{repo}/{path}/{id}"), "{}", r.cite);
                }
                "commit" => {
                    assert_eq!(project, "kernel");
                    assert!(id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()));
                    let full = r.url.rsplit("?id=").next().unwrap_or("");
                    assert!(
                        r.url.starts_with(
                            "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id="
                        ) && full.len() == 40
                            && full.starts_with(id),
                        "{}: {}",
                        r.cite,
                        r.url
                    );
                }
                other => panic!("{}: unknown kind {other}", r.cite),
            }
        }
        let mut cites: Vec<_> = REFERENCES.iter().map(|r| r.cite).collect();
        cites.sort_unstable();
        cites.dedup();
        assert_eq!(cites.len(), REFERENCES.len(), "a reference is listed twice");
    }

    #[test]
    fn every_citation_in_a_hint_is_in_the_table() {
        let hint = outer_checksum_hint();
        // Every `<word> issue|PR|commit <id>` in the text.
        let words: Vec<&str> = hint
            .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';' | '.'))
            .filter(|w| !w.is_empty())
            .collect();
        let mut found = 0;
        for w in words.windows(3) {
            if matches!(w[1], "issue" | "PR" | "commit") {
                let cite = w.join(" ");
                assert!(REFERENCES.iter().any(|r| r.cite == cite), "hint cites {cite:?}, not in the table");
                found += 1;
            }
        }
        assert_eq!(found, REFERENCES.len(), "the hint cites every reference once: {hint}");
        // The citation of the old hint named an unrelated flannel issue.
        assert!(!hint.contains("1266"));
    }

    #[test]
    fn docs_list_every_reference() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/correlation.md");
        let doc = std::fs::read_to_string(path).expect("docs/correlation.md");
        for r in REFERENCES {
            assert!(doc.contains(r.url), "docs/correlation.md does not list {} ({})", r.cite, r.url);
            assert!(doc.contains(r.cite), "docs/correlation.md does not name {}", r.cite);
        }
    }
}
