//! TCP health for `netcap summary`: connections by outcome, retransmission rate, RTT
//! percentiles, SYN-retry delays and the worst flows, folded from [`FlowRecord`]s in
//! memory bounded by the number of outcomes, [`WORST`] and [`MAX_CONNECTIONS`].
//!
//! A flow is one connection at one capture point: one connection seen at four points is
//! four flows. Connections are counted once: flows with the same client and server at
//! different points are one connection; at one point, each flow is its own (a 5-tuple
//! reused after the first connection closed).

use std::collections::BTreeMap;

use crate::flow::Endpoint;
use crate::CaptureKeyed;

use serde::Serialize;

use super::conn::FlowRecord;
use super::stats::{Samples, Summary};
use crate::flow::table::TableStats;

/// The worst flows kept.
pub const WORST: usize = 10;

/// Distinct (client, server) pairs remembered to count connections once; past it the
/// count is not given ([`HealthReport::connections`] is `None`).
pub const MAX_CONNECTIONS: usize = 1 << 20;

/// Connections counted once across points, within [`MAX_CONNECTIONS`] pairs: the
/// connections of a (client, server) are the most flows one point saw of it.
#[derive(Debug, Default)]
struct Connections {
    /// Flows per (client, server, point).
    at: CaptureKeyed<(Endpoint, Endpoint, u32), u32>,
    /// The most flows one point saw, per (client, server).
    most: CaptureKeyed<(Endpoint, Endpoint), u32>,
    count: u64,
    /// More pairs than [`MAX_CONNECTIONS`]: the count is not given.
    overflow: bool,
}

impl Connections {
    /// Counts the flow of `client > server` at `point`; whether it is a connection not
    /// counted before (every flow is, past the cap).
    fn add(&mut self, client: Endpoint, server: Endpoint, point: u32) -> bool {
        let new = if self.at.len() >= MAX_CONNECTIONS && !self.at.contains_key(&(client, server, point)) {
            self.overflow = true;
            true
        } else {
            let here = self.at.entry((client, server, point)).or_default();
            *here += 1;
            let most = self.most.entry((client, server)).or_default();
            let new = *here > *most;
            *most = (*most).max(*here);
            new
        };
        if new {
            self.count += 1;
        }
        new
    }

    fn count(&self) -> Option<u64> {
        (!self.overflow).then_some(self.count)
    }
}

/// Folds finished flows.
#[derive(Debug, Default)]
pub struct Health {
    flows: u64,
    outcomes: BTreeMap<&'static str, u64>,
    data_segments: u64,
    retransmissions: u64,
    retransmitted_bytes: u64,
    payload_bytes: u64,
    initial_rtt: Samples,
    connections: Connections,
    syn_retried: Connections,
    connect_delay: Samples,
    worst: Vec<FlowRecord>,
}

/// One line of the worst-flows list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorstFlow {
    /// The flow's id ([`FlowRecord::id`]).
    pub id: u64,
    /// The capture point's name.
    pub point: String,
    /// The client as `ip:port` (`[ip]:port` for IPv6).
    pub client: String,
    /// The server as `ip:port` (`[ip]:port` for IPv6).
    pub server: String,
    /// How the connection ended up (`refused`, `reset`, …).
    pub outcome: &'static str,
    /// Retransmitted segments, both directions.
    pub retransmissions: u64,
    /// SYNs the client sent with the connection's ISN.
    pub syn_attempts: u32,
    /// First SYN to the SYN/ACK the client answered, in ns; `None` when the handshake did
    /// not complete or no SYN was seen.
    pub connect_delay_ns: Option<i64>,
}

/// The `tcp` object of the summary report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct HealthReport {
    /// TCP flows (connections per capture point).
    pub flows: u64,
    /// Connections, each counted once however many points saw it (flows of one client
    /// and server at different points are one connection); `None` past
    /// [`MAX_CONNECTIONS`] distinct pairs.
    pub connections: Option<u64>,
    /// Flows by outcome (`closed`, `established`, `reset`, `refused`, `timed_out`,
    /// `unanswered`, `mid_stream`).
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Retransmitted segments over segments that carried payload, SYN or FIN.
    pub retransmission_rate: Option<f64>,
    /// Retransmitted segments of every flow, both directions.
    pub retransmissions: u64,
    /// Payload bytes of those retransmissions.
    pub retransmitted_bytes: u64,
    /// TCP payload bytes of every flow, both directions, retransmissions included.
    pub payload_bytes: u64,
    /// Karn-filtered `ack_rtt` samples of every flow.
    pub rtt: Summary,
    /// Wireshark's `initial_rtt` of every flow that has one.
    pub initial_rtt: Summary,
    /// Connections whose SYN was sent more than once, each counted once however many
    /// points saw it.
    pub syn_retried: u64,
    /// Connect delays (first SYN to the answered SYN/ACK) of those connections, as the
    /// first point that saw each one measured it.
    pub syn_retry_connect_delay: Summary,
    /// The flows in most trouble, worst first.
    pub worst: Vec<WorstFlow>,
    /// What happened to the flow table.
    pub table: TableStats,
}

impl Health {
    /// Flows folded so far.
    pub fn flows(&self) -> u64 {
        self.flows
    }

    /// Folds one finished flow: its outcome, counters, initial RTT and SYN retries, and,
    /// if it is in trouble, a place among the [`WORST`] flows.
    pub fn add(&mut self, f: &FlowRecord) {
        self.flows += 1;
        *self.outcomes.entry(f.outcome.as_str()).or_default() += 1;
        self.retransmissions += f.retransmissions();
        self.retransmitted_bytes += f.c2s.retransmitted_bytes + f.s2c.retransmitted_bytes;
        self.payload_bytes += f.c2s.payload_bytes + f.s2c.payload_bytes;
        self.data_segments += f.c2s.data_segments + f.s2c.data_segments;
        if let Some(r) = f.rtt.initial_rtt_ns {
            self.initial_rtt.add(r);
        }
        self.connections.add(f.client, f.server, f.point_index);
        if f.syn.attempts > 1 && self.syn_retried.add(f.client, f.server, f.point_index) {
            if let Some(d) = f.syn.connect_delay_ns {
                self.connect_delay.add(d);
            }
        }
        if f.in_trouble() {
            self.worst.push(f.clone());
            self.worst.sort_by(|a, b| b.trouble().cmp(&a.trouble()).then(a.id.cmp(&b.id)));
            self.worst.truncate(WORST);
        }
    }

    /// The report; `rtt` holds the Karn samples of every flow
    /// ([`super::Analyzer::karn_samples`]).
    pub fn report(&self, table: TableStats, rtt: &Samples) -> HealthReport {
        HealthReport {
            flows: self.flows,
            connections: self.connections.count(),
            outcomes: self.outcomes.clone(),
            retransmission_rate: (self.data_segments > 0)
                .then(|| self.retransmissions as f64 / self.data_segments as f64),
            retransmissions: self.retransmissions,
            retransmitted_bytes: self.retransmitted_bytes,
            payload_bytes: self.payload_bytes,
            rtt: rtt.summary(),
            initial_rtt: self.initial_rtt.summary(),
            syn_retried: self.syn_retried.count,
            syn_retry_connect_delay: self.connect_delay.summary(),
            worst: self
                .worst
                .iter()
                .map(|f| WorstFlow {
                    id: f.id,
                    point: f.point.clone(),
                    client: f.client.to_string(),
                    server: f.server.to_string(),
                    outcome: f.outcome.as_str(),
                    retransmissions: f.retransmissions(),
                    syn_attempts: f.syn.attempts,
                    connect_delay_ns: f.syn.connect_delay_ns,
                })
                .collect(),
            table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(last: u8, port: u16) -> Endpoint {
        Endpoint { ip: std::net::IpAddr::from([10, 0, 0, last]), port }
    }

    /// One connection at four points is one; a 5-tuple reused at one point is two,
    /// however the points' flows interleave.
    #[test]
    fn connections_are_counted_once_across_points() {
        let (c, s) = (ep(1, 40000), ep(2, 80));
        let mut n = Connections::default();
        let news: Vec<bool> = [0, 1, 2, 3].iter().map(|&p| n.add(c, s, p)).collect();
        assert_eq!(news, [true, false, false, false]);
        assert_eq!(n.count(), Some(1));
        // The 5-tuple used again: at point 1 first, then 0; interleaved with another pair.
        assert!(n.add(c, s, 1));
        assert!(n.add(ep(3, 40001), s, 1));
        assert!(!n.add(c, s, 0));
        assert!(!n.add(ep(3, 40001), s, 0));
        assert_eq!(n.count(), Some(3));
    }

    #[test]
    fn past_the_cap_the_count_is_not_given() {
        let mut n = Connections::default();
        for i in 0..=MAX_CONNECTIONS {
            n.add(ep(1, (i % 60000) as u16), ep(2, (i / 60000) as u16), 0);
        }
        assert_eq!(n.count(), None);
    }
}
