//! The names the inputs give addresses (pcapng Name Resolution Blocks), for tables.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::capture::AddressName;

/// Most names kept for one address: a table has no room for more.
pub const NAMES_PER_ADDRESS: usize = 8;

/// Address → the names the run's inputs give it, each once, in the order read, at most
/// [`NAMES_PER_ADDRESS`] ([`super::Outcome::names`]). In the JSON: an object from
/// address to a list of names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Names(BTreeMap<IpAddr, Vec<String>>);

impl Names {
    /// Adds the names one input gave.
    pub fn add(&mut self, names: &[AddressName]) {
        for n in names {
            let list = self.0.entry(n.address).or_default();
            if list.len() < NAMES_PER_ADDRESS && !list.contains(&n.name) {
                list.push(n.name.clone());
            }
        }
    }

    /// Whether no input named any address.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An address's names, joined by `,`; `None` when it has none.
    pub fn of(&self, ip: IpAddr) -> Option<String> {
        self.0.get(&ip).map(|l| l.join(","))
    }

    /// `text` with each word that is an address or `address:port` (`[v6]:port`)
    /// followed by its names in parentheses: `10.244.1.2:80 (web-0) > …`. Punctuation
    /// ending a word (`,`, `:`, `;`, `)`) is not part of it.
    pub fn annotate(&self, text: &str) -> String {
        if self.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        for (i, word) in text.split(' ').enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
            let bare = word.trim_end_matches([',', ':', ';', ')']);
            let ip = bare.parse::<std::net::SocketAddr>().map(|s| s.ip()).or_else(|_| bare.parse::<IpAddr>());
            if let Some(n) = ip.ok().and_then(|ip| self.of(ip)) {
                // The name goes before the punctuation.
                out.truncate(out.len() - (word.len() - bare.len()));
                out.push_str(&format!(" ({n})"));
                out.push_str(&word[bare.len()..]);
            }
        }
        out
    }

    /// Every address with its names.
    pub fn iter(&self) -> impl Iterator<Item = (&IpAddr, &Vec<String>)> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_text_get_their_names() {
        let mut names = Names::default();
        let a = |address: &str, name: &str| AddressName { address: address.parse().unwrap(), name: name.to_string() };
        names.add(&[a("10.244.1.2", "web-0"), a("10.244.1.2", "web.default.svc"), a("fd00::1", "db"), a("10.244.1.2", "web-0")]);
        assert_eq!(names.of("10.244.1.2".parse().unwrap()).as_deref(), Some("web-0,web.default.svc"));
        assert_eq!(
            names.annotate("flow 3 at n1: 10.244.1.2:80 > [fd00::1]:5432: reset, 10.0.0.9:1 fd00::1"),
            "flow 3 at n1: 10.244.1.2:80 (web-0,web.default.svc) > [fd00::1]:5432 (db): reset, 10.0.0.9:1 fd00::1 (db)"
        );
        assert_eq!(Names::default().annotate("10.244.1.2:80"), "10.244.1.2:80");
        let many: Vec<AddressName> = (0..20).map(|i| a("10.0.0.1", &format!("n{i}"))).collect();
        names.add(&many);
        assert_eq!(names.of("10.0.0.1".parse().unwrap()).unwrap().split(',').count(), NAMES_PER_ADDRESS);
    }
}
