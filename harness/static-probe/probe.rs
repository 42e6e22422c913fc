//! The startup probe of scenario `startup-latency`: a static executable of a
//! few KiB with no dynamic loader, no libc and no language runtime before its
//! stamp, so that "time to first instruction" is the kernel's and the
//! starter's cost, not `ld.so`'s or a runtime's set-up (issue 16).
//!
//! The entry point `_start` calls [`probe_main`], whose first act is
//! clock_gettime(CLOCK_MONOTONIC) by a raw syscall; it writes the stamp to
//! stdout as 16 bytes (seconds, then nanoseconds, each a native-endian i64).
//! With `--inspect` as argv[1] it then writes `pid N` (its pid as its own pid
//! namespace numbers it) and the contents of /proc/self/cgroup, so a test can
//! check that it ran inside its namespaces and cgroup. It exits 0, or 1 when
//! a write fails. Only raw syscalls are used (syscall(2) numbers of
//! `arch/x86/entry/syscalls/syscall_64.tbl` and `include/uapi/asm-generic/unistd.h`).
//!
//! Built by the harness's build script with `rustc -C panic=abort`,
//! `-nostartfiles -nostdlib -static` (no PT_INTERP, no PT_DYNAMIC) and
//! embedded in the `isobench` binary.
#![no_std]
#![no_main]

#[cfg(target_arch = "x86_64")]
mod sys {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const GETPID: usize = 39;
    pub const OPENAT: usize = 257;
    pub const CLOCK_GETTIME: usize = 228;
    pub const EXIT_GROUP: usize = 231;

    core::arch::global_asm!(
        ".globl _start",
        "_start:",
        "xor ebp, ebp",
        "mov rdi, rsp",
        "and rsp, -16",
        "call probe_main",
        "ud2",
    );

    /// syscall(2) with three arguments; returns the kernel's value (negative errno on failure).
    pub unsafe fn call3(nr: usize, a: usize, b: usize, c: usize) -> isize {
        let ret: isize;
        // SAFETY: the caller passes arguments valid for syscall `nr`.
        unsafe {
            core::arch::asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a, in("rsi") b,
                in("rdx") c, lateout("rcx") _, lateout("r11") _, options(nostack));
        }
        ret
    }

    /// syscall(2) with four arguments.
    pub unsafe fn call4(nr: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
        let ret: isize;
        // SAFETY: as for `call3`.
        unsafe {
            core::arch::asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a, in("rsi") b,
                in("rdx") c, in("r10") d, lateout("rcx") _, lateout("r11") _, options(nostack));
        }
        ret
    }
}

#[cfg(target_arch = "aarch64")]
mod sys {
    pub const READ: usize = 63;
    pub const WRITE: usize = 64;
    pub const GETPID: usize = 172;
    pub const OPENAT: usize = 56;
    pub const CLOCK_GETTIME: usize = 113;
    pub const EXIT_GROUP: usize = 94;

    core::arch::global_asm!(
        ".globl _start",
        "_start:",
        "mov x29, #0",
        "mov x0, sp",
        "bl probe_main",
        "brk #0",
    );

    /// syscall(2) with three arguments; returns the kernel's value (negative errno on failure).
    pub unsafe fn call3(nr: usize, a: usize, b: usize, c: usize) -> isize {
        // SAFETY: as for `call4`.
        unsafe { call4(nr, a, b, c, 0) }
    }

    /// syscall(2) with four arguments.
    pub unsafe fn call4(nr: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
        let ret: isize;
        // SAFETY: the caller passes arguments valid for syscall `nr`.
        unsafe {
            core::arch::asm!("svc 0", inlateout("x0") a as isize => ret, in("x1") b, in("x2") c,
                in("x3") d, in("x8") nr, options(nostack));
        }
        ret
    }
}

const CLOCK_MONOTONIC: usize = 1;
const AT_FDCWD: isize = -100;
const STDOUT: usize = 1;

/// Writes all of `bytes` to stdout; false when a write fails.
fn write_all(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid buffer of its length.
        let n = unsafe { sys::call3(sys::WRITE, STDOUT, bytes.as_ptr() as usize, bytes.len()) };
        if n <= 0 {
            return false;
        }
        bytes = &bytes[n as usize..];
    }
    true
}

fn exit(code: usize) -> ! {
    // SAFETY: exit_group never returns.
    unsafe { sys::call3(sys::EXIT_GROUP, code, 0, 0) };
    loop {}
}

/// `pid N\n` then /proc/self/cgroup.
fn inspect() -> bool {
    let mut line = *b"pid                     \n";
    // SAFETY: getpid takes no argument.
    let mut pid = unsafe { sys::call3(sys::GETPID, 0, 0, 0) } as usize;
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (pid % 10) as u8;
        n += 1;
        pid /= 10;
        if pid == 0 {
            break;
        }
    }
    for i in 0..n {
        line[4 + i] = digits[n - 1 - i];
    }
    line[4 + n] = b'\n';
    if !write_all(&line[..5 + n]) {
        return false;
    }
    let path = b"/proc/self/cgroup\0";
    // SAFETY: `path` is NUL-terminated; flags 0 = O_RDONLY.
    let fd = unsafe { sys::call4(sys::OPENAT, AT_FDCWD as usize, path.as_ptr() as usize, 0, 0) };
    if fd < 0 {
        return false;
    }
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: `buf` is a valid buffer of its length.
        let got = unsafe { sys::call3(sys::READ, fd as usize, buf.as_mut_ptr() as usize, buf.len()) };
        if got < 0 {
            return false;
        }
        if got == 0 || !write_all(&buf[..got as usize]) {
            return got == 0;
        }
    }
}

/// The probe's main: stamp first, then the rest. `stack` points at argc, then argv.
#[unsafe(no_mangle)]
extern "C" fn probe_main(stack: *const usize) -> ! {
    let mut stamp = [0i64; 2];
    // SAFETY: `stamp` is a struct timespec's worth of writable memory.
    let got = unsafe { sys::call3(sys::CLOCK_GETTIME, CLOCK_MONOTONIC, stamp.as_mut_ptr() as usize, 0) };
    if got != 0 {
        stamp = [-1, -1];
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&stamp[0].to_ne_bytes());
    bytes[8..].copy_from_slice(&stamp[1].to_ne_bytes());
    if !write_all(&bytes) {
        exit(1);
    }
    // SAFETY: the kernel lays out argc then argv (NUL-terminated strings, then NULL) at the entry stack.
    let first_arg = unsafe {
        let argc = *stack;
        if argc > 1 { *stack.add(2) as *const u8 } else { core::ptr::null() }
    };
    if !first_arg.is_null() && is(first_arg, b"--inspect\0") && !inspect() {
        exit(1);
    }
    exit(0)
}

/// True when the NUL-terminated string at `s` equals `want` (NUL included).
fn is(s: *const u8, want: &[u8]) -> bool {
    // SAFETY: `s` is NUL-terminated; the loop stops at the first difference or NUL.
    want.iter().enumerate().all(|(i, &w)| unsafe { *s.add(i) } == w)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(101)
}

/// The precompiled `core` names the unwinder's personality routine in its
/// unwind tables; built with `panic=abort`, nothing here unwinds, so it is never called.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// memset(3), which the compiler may call for array initialisers (no libc is
/// linked); volatile stores keep it from being turned into a call to itself.
///
/// # Safety
/// `dest` is valid for `n` bytes of writes.
#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: within the `n` bytes the caller vouches for.
        unsafe { core::ptr::write_volatile(dest.add(i), c as u8) };
    }
    dest
}

/// memcpy(3), for the same reason as [`memset`].
///
/// # Safety
/// `dest` and `src` are valid for `n` bytes and do not overlap.
#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: within the `n` bytes the caller vouches for.
        unsafe { core::ptr::write_volatile(dest.add(i), *src.add(i)) };
    }
    dest
}
