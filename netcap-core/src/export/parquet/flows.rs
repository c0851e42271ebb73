//! The `flows` table: one row per TCP flow, every figure of `netcap flows --format
//! json` flattened into columns (`docs/parquet.md`, "flows").

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder, TimestampNanosecondBuilder, UInt16Builder,
    UInt32Builder, UInt64Builder, UInt8Builder,
};
use arrow_schema::ArrowError;

use super::{optional, required, Column, Table};
use crate::tcp::stats::Summary;
use crate::tcp::{DirStats, FlowRecord};

/// The columns of one direction's [`DirStats`].
#[derive(Debug, Default)]
struct DirColumns {
    counts: [UInt64Builder; 13],
    throughput_bps: Float64Builder,
    /// The RTT of this direction's data: `ack_rtt`, Karn, timestamp echo.
    rtt: [RttColumns; 3],
}

/// Column names of a direction's RTT ([`DirColumns::rtt`]).
const C2S_RTT: [[&str; 5]; 3] = [
    ["c2s_ack_rtt_count", "c2s_ack_rtt_min_ns", "c2s_ack_rtt_p50_ns", "c2s_ack_rtt_p95_ns", "c2s_ack_rtt_max_ns"],
    ["c2s_karn_rtt_count", "c2s_karn_rtt_min_ns", "c2s_karn_rtt_p50_ns", "c2s_karn_rtt_p95_ns", "c2s_karn_rtt_max_ns"],
    ["c2s_ts_echo_rtt_count", "c2s_ts_echo_rtt_min_ns", "c2s_ts_echo_rtt_p50_ns", "c2s_ts_echo_rtt_p95_ns", "c2s_ts_echo_rtt_max_ns"],
];
const S2C_RTT: [[&str; 5]; 3] = [
    ["s2c_ack_rtt_count", "s2c_ack_rtt_min_ns", "s2c_ack_rtt_p50_ns", "s2c_ack_rtt_p95_ns", "s2c_ack_rtt_max_ns"],
    ["s2c_karn_rtt_count", "s2c_karn_rtt_min_ns", "s2c_karn_rtt_p50_ns", "s2c_karn_rtt_p95_ns", "s2c_karn_rtt_max_ns"],
    ["s2c_ts_echo_rtt_count", "s2c_ts_echo_rtt_min_ns", "s2c_ts_echo_rtt_p50_ns", "s2c_ts_echo_rtt_p95_ns", "s2c_ts_echo_rtt_max_ns"],
];

/// Column names of the counters, client → server, in [`DirColumns::append`]'s order.
const C2S: [&str; 14] = [
    "c2s_packets",
    "c2s_bytes",
    "c2s_payload_bytes",
    "c2s_data_segments",
    "c2s_retransmissions",
    "c2s_retransmitted_bytes",
    "c2s_fast_retransmissions",
    "c2s_spurious_retransmissions",
    "c2s_out_of_order",
    "c2s_lost_segments",
    "c2s_duplicate_acks",
    "c2s_zero_windows",
    "c2s_duplicate_captures",
    "c2s_throughput_bps",
];

/// The same, server → client.
const S2C: [&str; 14] = [
    "s2c_packets",
    "s2c_bytes",
    "s2c_payload_bytes",
    "s2c_data_segments",
    "s2c_retransmissions",
    "s2c_retransmitted_bytes",
    "s2c_fast_retransmissions",
    "s2c_spurious_retransmissions",
    "s2c_out_of_order",
    "s2c_lost_segments",
    "s2c_duplicate_acks",
    "s2c_zero_windows",
    "s2c_duplicate_captures",
    "s2c_throughput_bps",
];

impl DirColumns {
    fn append(&mut self, d: &DirStats) {
        let values = [
            d.packets,
            d.bytes,
            d.payload_bytes,
            d.data_segments,
            d.retransmissions,
            d.retransmitted_bytes,
            d.fast_retransmissions,
            d.spurious_retransmissions,
            d.out_of_order,
            d.lost_segments,
            d.duplicate_acks,
            d.zero_windows,
            d.duplicate_captures,
        ];
        for (b, v) in self.counts.iter_mut().zip(values) {
            b.append_value(v);
        }
        self.throughput_bps.append_option(d.throughput_bps);
        for (c, s) in self.rtt.iter_mut().zip([&d.rtt.ack_rtt, &d.rtt.karn, &d.rtt.ts_echo]) {
            c.append(s);
        }
    }

    fn columns(&mut self, names: &[&'static str; 14], rtt: &[[&'static str; 5]; 3], out: &mut Vec<Column>) {
        for (b, &name) in self.counts.iter_mut().zip(names.iter()) {
            out.push(required(name, b.finish()));
        }
        out.push(optional(names[13], self.throughput_bps.finish()));
        for (c, names) in self.rtt.iter_mut().zip(rtt) {
            c.columns(names, out);
        }
    }
}

/// The columns of one RTT [`Summary`].
#[derive(Debug, Default)]
struct RttColumns {
    count: UInt64Builder,
    /// min, p50, p95, max.
    values: [Int64Builder; 4],
}

const ACK_RTT: [&str; 5] = ["ack_rtt_count", "ack_rtt_min_ns", "ack_rtt_p50_ns", "ack_rtt_p95_ns", "ack_rtt_max_ns"];
const KARN: [&str; 5] = ["karn_rtt_count", "karn_rtt_min_ns", "karn_rtt_p50_ns", "karn_rtt_p95_ns", "karn_rtt_max_ns"];
const TS_ECHO: [&str; 5] =
    ["ts_echo_rtt_count", "ts_echo_rtt_min_ns", "ts_echo_rtt_p50_ns", "ts_echo_rtt_p95_ns", "ts_echo_rtt_max_ns"];

impl RttColumns {
    fn append(&mut self, s: &Summary) {
        self.count.append_value(s.count);
        for (b, v) in self.values.iter_mut().zip([s.min_ns, s.p50_ns, s.p95_ns, s.max_ns]) {
            b.append_option(v);
        }
    }

    fn columns(&mut self, names: &[&'static str; 5], out: &mut Vec<Column>) {
        out.push(required(names[0], self.count.finish()));
        for (b, &name) in self.values.iter_mut().zip(names[1..].iter()) {
            out.push(optional(name, b.finish()));
        }
    }
}

/// Builder of the `flows` table.
#[derive(Debug)]
pub struct Flows {
    rows: usize,
    id: UInt64Builder,
    point: StringBuilder,
    client_ip: StringBuilder,
    client_port: UInt16Builder,
    server_ip: StringBuilder,
    server_port: UInt16Builder,
    encapsulation: StringBuilder,
    encapsulation_s2c: StringBuilder,
    outcome: StringBuilder,
    handshake: BooleanBuilder,
    exit: StringBuilder,
    first_ts: TimestampNanosecondBuilder,
    last_ts: TimestampNanosecondBuilder,
    duration_ns: Int64Builder,
    retransmissions: UInt64Builder,
    c2s: DirColumns,
    s2c: DirColumns,
    syn_attempts: UInt32Builder,
    syn_offsets_ns: ListBuilder<Int64Builder>,
    syn_schedule: StringBuilder,
    syn_outcome: StringBuilder,
    connect_delay_ns: Int64Builder,
    ack_rtt: RttColumns,
    karn: RttColumns,
    ts_echo: RttColumns,
    syn_synack_ns: Int64Builder,
    synack_ack_ns: Int64Builder,
    initial_rtt_ns: Int64Builder,
    mss_client: UInt16Builder,
    mss_server: UInt16Builder,
    window_scale_client: UInt8Builder,
    window_scale_server: UInt8Builder,
    sack_permitted: BooleanBuilder,
    timestamps: BooleanBuilder,
}

impl Default for Flows {
    fn default() -> Self {
        Flows {
            rows: 0,
            id: UInt64Builder::new(),
            point: StringBuilder::new(),
            client_ip: StringBuilder::new(),
            client_port: UInt16Builder::new(),
            server_ip: StringBuilder::new(),
            server_port: UInt16Builder::new(),
            encapsulation: StringBuilder::new(),
            encapsulation_s2c: StringBuilder::new(),
            outcome: StringBuilder::new(),
            handshake: BooleanBuilder::new(),
            exit: StringBuilder::new(),
            first_ts: TimestampNanosecondBuilder::new().with_timezone("UTC"),
            last_ts: TimestampNanosecondBuilder::new().with_timezone("UTC"),
            duration_ns: Int64Builder::new(),
            retransmissions: UInt64Builder::new(),
            c2s: DirColumns::default(),
            s2c: DirColumns::default(),
            syn_attempts: UInt32Builder::new(),
            syn_offsets_ns: ListBuilder::new(Int64Builder::new()),
            syn_schedule: StringBuilder::new(),
            syn_outcome: StringBuilder::new(),
            connect_delay_ns: Int64Builder::new(),
            ack_rtt: RttColumns::default(),
            karn: RttColumns::default(),
            ts_echo: RttColumns::default(),
            syn_synack_ns: Int64Builder::new(),
            synack_ack_ns: Int64Builder::new(),
            initial_rtt_ns: Int64Builder::new(),
            mss_client: UInt16Builder::new(),
            mss_server: UInt16Builder::new(),
            window_scale_client: UInt8Builder::new(),
            window_scale_server: UInt8Builder::new(),
            sack_permitted: BooleanBuilder::new(),
            timestamps: BooleanBuilder::new(),
        }
    }
}

impl Flows {
    /// Appends one flow record's row.
    pub fn append(&mut self, f: &FlowRecord) {
        self.rows += 1;
        self.id.append_value(f.id);
        self.point.append_value(&f.point);
        self.client_ip.append_value(f.client.ip.to_string());
        self.client_port.append_value(f.client.port);
        self.server_ip.append_value(f.server.ip.to_string());
        self.server_port.append_value(f.server.port);
        self.encapsulation.append_value(f.encapsulation.to_string());
        self.encapsulation_s2c.append_option(f.encapsulation_s2c.map(|e| e.to_string()));
        self.outcome.append_value(f.outcome.as_str());
        self.handshake.append_value(f.handshake);
        self.exit.append_value(exit_name(f));
        self.first_ts.append_value(f.first_ts_ns);
        self.last_ts.append_value(f.last_ts_ns);
        self.duration_ns.append_value(f.duration_ns);
        self.retransmissions.append_value(f.retransmissions());
        self.c2s.append(&f.c2s);
        self.s2c.append(&f.s2c);
        self.syn_attempts.append_value(f.syn.attempts);
        self.syn_offsets_ns.values().append_slice(&f.syn.offsets_ns);
        self.syn_offsets_ns.append(true);
        self.syn_schedule.append_value(f.syn.schedule.as_str());
        self.syn_outcome.append_option(f.syn.outcome.map(|o| o.as_str()));
        self.connect_delay_ns.append_option(f.syn.connect_delay_ns);
        self.ack_rtt.append(&f.rtt.ack_rtt);
        self.karn.append(&f.rtt.karn);
        self.ts_echo.append(&f.rtt.ts_echo);
        self.syn_synack_ns.append_option(f.rtt.syn_synack_ns);
        self.synack_ack_ns.append_option(f.rtt.synack_ack_ns);
        self.initial_rtt_ns.append_option(f.rtt.initial_rtt_ns);
        self.mss_client.append_option(f.negotiated.mss.client);
        self.mss_server.append_option(f.negotiated.mss.server);
        self.window_scale_client.append_option(f.negotiated.window_scale.client);
        self.window_scale_server.append_option(f.negotiated.window_scale.server);
        self.sack_permitted.append_value(f.negotiated.sack_permitted);
        self.timestamps.append_value(f.negotiated.timestamps);
    }
}

/// The record's `exit` as in its JSON (`end`, `expired`, `evicted`, `replaced`).
fn exit_name(f: &FlowRecord) -> &'static str {
    use crate::flow::table::Exit;
    match f.exit {
        Exit::Expired => "expired",
        Exit::Evicted => "evicted",
        Exit::Replaced => "replaced",
        Exit::End => "end",
    }
}

impl Table for Flows {
    const NAME: &'static str = "flows";

    fn len(&self) -> usize {
        self.rows
    }

    fn columns(&mut self) -> Result<Vec<Column>, ArrowError> {
        self.rows = 0;
        let mut out = vec![
            required("id", self.id.finish()),
            required("point", self.point.finish()),
            required("client_ip", self.client_ip.finish()),
            required("client_port", self.client_port.finish()),
            required("server_ip", self.server_ip.finish()),
            required("server_port", self.server_port.finish()),
            required("encapsulation", self.encapsulation.finish()),
            optional("encapsulation_s2c", self.encapsulation_s2c.finish()),
            required("outcome", self.outcome.finish()),
            required("handshake", self.handshake.finish()),
            required("exit", self.exit.finish()),
            required("first_ts", self.first_ts.finish()),
            required("last_ts", self.last_ts.finish()),
            required("duration_ns", self.duration_ns.finish()),
            required("retransmissions", self.retransmissions.finish()),
        ];
        self.c2s.columns(&C2S, &C2S_RTT, &mut out);
        self.s2c.columns(&S2C, &S2C_RTT, &mut out);
        out.push(required("syn_attempts", self.syn_attempts.finish()));
        out.push(required("syn_offsets_ns", self.syn_offsets_ns.finish()));
        out.push(required("syn_schedule", self.syn_schedule.finish()));
        out.push(optional("syn_outcome", self.syn_outcome.finish()));
        out.push(optional("connect_delay_ns", self.connect_delay_ns.finish()));
        self.ack_rtt.columns(&ACK_RTT, &mut out);
        self.karn.columns(&KARN, &mut out);
        self.ts_echo.columns(&TS_ECHO, &mut out);
        out.extend([
            optional("syn_synack_ns", self.syn_synack_ns.finish()),
            optional("synack_ack_ns", self.synack_ack_ns.finish()),
            optional("initial_rtt_ns", self.initial_rtt_ns.finish()),
            optional("mss_client", self.mss_client.finish()),
            optional("mss_server", self.mss_server.finish()),
            optional("window_scale_client", self.window_scale_client.finish()),
            optional("window_scale_server", self.window_scale_server.finish()),
            required("sack_permitted", self.sack_permitted.finish()),
            required("timestamps", self.timestamps.finish()),
        ]);
        Ok(out)
    }
}
