//! `isobench-workload`: the multi-call binary of victims, aggressors and the sandbox init.
#![deny(unsafe_code)]

fn main() -> anyhow::Result<()> {
    isobench_workloads::applets::main_with(std::env::args_os())
}
