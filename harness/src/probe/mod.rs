//! What the host is and what it can do: the fingerprint that makes runs
//! comparable (DESIGN §3) and the capability probe of `isobench doctor` (DESIGN §5).

pub mod container;
mod doctor;
mod host;
pub mod host_load;
pub mod kthreads;

pub use doctor::{doctor, doctor_with_workload, psi_status};
pub use host::{fingerprint, parse_cpu_list};
