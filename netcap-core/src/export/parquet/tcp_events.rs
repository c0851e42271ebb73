//! The `tcp_events` table: one row per frame whose TCP segment carries an analysis
//! label or an RTT sample (`docs/parquet.md`, "tcp_events").

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, ListBuilder, StringBuilder, TimestampNanosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow_schema::ArrowError;

use super::{optional, required, Column, Table};
use crate::tcp::SegmentInfo;

/// Builder of the `tcp_events` table.
#[derive(Debug)]
pub struct TcpEvents {
    rows: usize,
    point: StringBuilder,
    frame: UInt64Builder,
    ts: TimestampNanosecondBuilder,
    flow: UInt64Builder,
    events: ListBuilder<StringBuilder>,
    is_retransmission: BooleanBuilder,
    ack_rtt_ns: Int64Builder,
    acks_frame: UInt64Builder,
    karn: BooleanBuilder,
    ts_echo_rtt_ns: Int64Builder,
    dupack_num: UInt32Builder,
    dupack_frame: UInt64Builder,
}

impl Default for TcpEvents {
    fn default() -> Self {
        TcpEvents {
            rows: 0,
            point: StringBuilder::new(),
            frame: UInt64Builder::new(),
            ts: TimestampNanosecondBuilder::new().with_timezone("UTC"),
            flow: UInt64Builder::new(),
            events: ListBuilder::new(StringBuilder::new()),
            is_retransmission: BooleanBuilder::new(),
            ack_rtt_ns: Int64Builder::new(),
            acks_frame: UInt64Builder::new(),
            karn: BooleanBuilder::new(),
            ts_echo_rtt_ns: Int64Builder::new(),
            dupack_num: UInt32Builder::new(),
            dupack_frame: UInt64Builder::new(),
        }
    }
}

impl TcpEvents {
    /// Whether the segment makes a row: a label, an `ack_rtt` or a timestamp-echo RTT.
    pub fn wants(seg: &SegmentInfo) -> bool {
        !seg.analysis.is_empty() || seg.ack_rtt_ns.is_some() || seg.ts_echo_rtt_ns.is_some()
    }

    /// One row for frame `frame` of `point` (time as captured, `None` without one).
    pub fn append(&mut self, point: &str, frame: u64, ts_ns: Option<i64>, seg: &SegmentInfo) {
        self.rows += 1;
        self.point.append_value(point);
        self.frame.append_value(frame);
        self.ts.append_option(ts_ns);
        self.flow.append_value(seg.flow);
        for l in seg.analysis.iter() {
            self.events.values().append_value(l.name());
        }
        self.events.append(true);
        self.is_retransmission.append_value(seg.analysis.is_retransmission());
        self.ack_rtt_ns.append_option(seg.ack_rtt_ns);
        self.acks_frame.append_option(seg.acks_frame);
        self.karn.append_value(seg.karn);
        self.ts_echo_rtt_ns.append_option(seg.ts_echo_rtt_ns);
        self.dupack_num.append_option(seg.dupack_num);
        self.dupack_frame.append_option(seg.dupack_frame);
    }
}

impl Table for TcpEvents {
    const NAME: &'static str = "tcp_events";

    fn len(&self) -> usize {
        self.rows
    }

    fn columns(&mut self) -> Result<Vec<Column>, ArrowError> {
        self.rows = 0;
        Ok(vec![
            required("point", self.point.finish()),
            required("frame", self.frame.finish()),
            optional("ts", self.ts.finish()),
            required("flow", self.flow.finish()),
            required("events", self.events.finish()),
            required("is_retransmission", self.is_retransmission.finish()),
            optional("ack_rtt_ns", self.ack_rtt_ns.finish()),
            optional("acks_frame", self.acks_frame.finish()),
            required("karn", self.karn.finish()),
            optional("ts_echo_rtt_ns", self.ts_echo_rtt_ns.finish()),
            optional("dupack_num", self.dupack_num.finish()),
            optional("dupack_frame", self.dupack_frame.finish()),
        ])
    }
}
