//! A custom observer: frames per VXLAN network identifier (VNI) at each capture point —
//! a count netcap itself does not report. Each VNI is one overlay network (flannel
//! uses VNI 1, calico 4096), so this shows which overlays a node's traffic carries.
//!
//! ```text
//! cargo run -p netcap-core --example vni_counter -- fixtures/lab/flannel/server_underlay.pcap
//! server_underlay vni 1: 12 frames
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;

use netcap_core::analysis::{Analysis, FrameEvent, Observer, Order};
use netcap_core::decode::LayerKind;

/// (point name, VNI) → frames.
#[derive(Default)]
struct Vnis(BTreeMap<(String, u32), u64>);

impl Observer for Vnis {
    type Error = Infallible;

    fn frame(&mut self, e: &FrameEvent<'_>) -> Result<(), Infallible> {
        // The outermost VXLAN header of the frame (tunnels can nest).
        let vni = e.packet.layers.iter().find_map(|l| match l.kind {
            LayerKind::Vxlan { vni, .. } => Some(vni),
            _ => None,
        });
        if let Some(vni) = vni {
            *self.0.entry((e.point_info.name.clone(), vni)).or_default() += 1;
        }
        Ok(())
    }
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let mut vnis = Vnis::default();
    if let Err(e) = Analysis::new().files(&files).order(Order::Files).keep_flows(false).run(&mut vnis) {
        return eprintln!("{e}");
    }
    for ((point, vni), frames) in &vnis.0 {
        println!("{point} vni {vni}: {frames} frames");
    }
}
