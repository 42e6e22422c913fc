//! Statistics over rounds. Events within a round share that round's noise, so
//! every figure is first reduced to one value per round and the uncertainty is
//! taken across rounds (DESIGN §3).

pub mod bootstrap;
pub mod center;
pub mod change;
