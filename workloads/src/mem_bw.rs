//! Aggressor `mem-bw`: memory bandwidth, by the kernels of STREAM (John D.
//! McCalpin, "Memory Bandwidth and Machine Balance in Current High Performance
//! Computers", IEEE TCCA Newsletter, 1995; <https://www.cs.virginia.edu/stream/>).
//!
//! Each thread owns arrays of `f64` sized so that all of them together take
//! `--bytes` (default 3 × 64 MiB, far larger than any cache) and runs one kernel
//! over them, again and again:
//! - `copy`: `c[i] = a[i]`, counted as 2 × 8 bytes moved per element;
//! - `triad`: `a[i] = b[i] + q × c[i]`, counted as 3 × 8 bytes per element.
//!
//! As in STREAM, bytes are counted as the arrays the kernel names (the extra
//! read a write-allocate cache makes is not counted) and MB are 10^6 bytes. The
//! first pass writes the arrays (so their pages are real, not the shared zero
//! page) and is not counted; `mb_per_s` runs from its end to the deadline, sleep
//! of the duty cycle included, summed over the threads.

use crate::intensity::{Intensity, Pacer};
use crate::report::MemBwReport;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Largest `--bytes`, all arrays together (1 GiB).
pub const MAX_BYTES: u64 = 1 << 30;

/// Elements of each array a thread works on between two looks at its pacer
/// (64 KiB per array).
const ELEMENTS_PER_STEP: usize = 8192;

/// A STREAM kernel.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// `c[i] = a[i]`: two arrays, 16 bytes moved per element.
    Copy,
    /// `a[i] = b[i] + q × c[i]`: three arrays, 24 bytes moved per element.
    Triad,
}

impl Kernel {
    /// Arrays the kernel names, and so counts as moved per element.
    pub fn arrays(self) -> usize {
        match self {
            Kernel::Copy => 2,
            Kernel::Triad => 3,
        }
    }
}

/// What `mem-bw` does.
#[derive(Debug, Clone)]
pub struct BwPlan {
    /// The kernel.
    pub kernel: Kernel,
    /// All arrays of all threads together, bytes (at most [`MAX_BYTES`]).
    pub bytes: u64,
    /// Threads, each with arrays of its own.
    pub threads: usize,
    /// Duty cycle.
    pub intensity: Intensity,
    /// Run time, the first writing of the arrays included.
    pub duration: Duration,
}

/// What one thread did.
struct Streamed {
    /// Bytes moved after the arrays were first written, by STREAM's count.
    bytes: u64,
    /// Seconds from the end of the first writing to the deadline; `None` if it did not end.
    seconds: Option<f64>,
    passes: u64,
}

/// Runs the plan.
pub fn run(plan: &BwPlan) -> MemBwReport {
    let start = Instant::now();
    let deadline = start + plan.duration;
    let threads = plan.threads.max(1);
    let per_array =
        (plan.bytes.min(MAX_BYTES) as usize / threads / plan.kernel.arrays() / 8).max(1);
    let done: Vec<Streamed> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| stream(plan.kernel, per_array, Pacer::new(plan.intensity, deadline)))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a mem-bw thread panicked"))
            .collect()
    });
    let rates: Vec<f64> = done
        .iter()
        .filter_map(|d| d.seconds.map(|s| d.bytes as f64 / s.max(1e-9) / 1e6))
        .collect();
    MemBwReport {
        kernel: plan.kernel,
        array_bytes: (per_array * 8 * plan.kernel.arrays() * threads) as u64,
        threads,
        mb_per_s: (!rates.is_empty()).then(|| rates.iter().sum()),
        passes: done.iter().map(|d| d.passes).min().unwrap_or(0),
        ran_s: start.elapsed().as_secs_f64(),
        intensity: plan.intensity,
    }
}

/// One thread: writes its arrays once, then runs `kernel` over them until the deadline.
fn stream(kernel: Kernel, n: usize, mut pacer: Pacer) -> Streamed {
    const Q: f64 = 3.0;
    // Zeroed allocations are lazy: the first pass below faults every page in.
    let mut a = vec![0.0f64; n];
    let mut b = vec![0.0f64; if kernel == Kernel::Triad { n } else { 0 }];
    let mut c = vec![0.0f64; n];
    let mut streamed = Streamed {
        bytes: 0,
        seconds: None,
        passes: 0,
    };
    let mut at = 0;
    let mut written = false;
    let mut streaming_since = Instant::now();
    while pacer.go() {
        let end = (at + ELEMENTS_PER_STEP).min(n);
        let range = at..end;
        match (written, kernel) {
            (false, _) => {
                a[range.clone()].fill(1.0);
                c[range.clone()].fill(0.5);
                if kernel == Kernel::Triad {
                    b[range].fill(2.0);
                }
            }
            (true, Kernel::Copy) => c[range.clone()].copy_from_slice(&a[range]),
            (true, Kernel::Triad) => {
                for ((a, b), c) in a[range.clone()]
                    .iter_mut()
                    .zip(&b[range.clone()])
                    .zip(&c[range])
                {
                    *a = b + Q * c;
                }
            }
        }
        if written {
            streamed.bytes += ((end - at) * 8 * kernel.arrays()) as u64;
        }
        at = end;
        if at == n {
            at = 0;
            if written {
                streamed.passes += 1;
            } else {
                written = true;
                streaming_since = Instant::now();
            }
        }
    }
    if written {
        streamed.seconds = Some(streaming_since.elapsed().as_secs_f64());
    }
    black_box((&a, &b, &c));
    streamed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kernels_move_bytes_until_the_deadline() {
        for kernel in [Kernel::Copy, Kernel::Triad] {
            let r = run(&BwPlan {
                kernel,
                bytes: 3 << 20,
                threads: 1,
                intensity: Intensity::FULL,
                duration: Duration::from_millis(300),
            });
            assert!(r.ran_s >= 0.3 && r.ran_s < 0.8, "{r:?}");
            assert!(r.passes > 0 && r.mb_per_s.unwrap() > 0.0, "{r:?}");
            assert!(r.array_bytes <= 3 << 20, "{r:?}");
        }
    }

    #[test]
    fn arrays_not_written_before_the_deadline_give_no_bandwidth() {
        let r = run(&BwPlan {
            kernel: Kernel::Triad,
            bytes: MAX_BYTES,
            threads: 1,
            intensity: Intensity::new(1).unwrap(),
            duration: Duration::from_millis(30),
        });
        assert_eq!((r.mb_per_s, r.passes), (None, 0), "{r:?}");
    }
}
