//! Intel AMX (Advanced Matrix Extensions) for the int8 products: the
//! processor's eight tile registers (16 rows of 64 bytes each) and
//! `tdpbusd`, which adds a 16 × 64 unsigned-byte tile times a 64 × 16
//! signed-byte tile (stored four bytes of 16 columns a row) into a 16 × 16
//! int32 tile — 16 384 multiply-adds an instruction, against 64 for
//! AVX-512 VNNI's `vpdpbusd`. Xeon processors from Sapphire Rapids on have
//! it.
//!
//! This module owns finding out whether AMX can run here (CPUID, the
//! operating system's saved state, and Linux's per-process permission to
//! use the tile data, asked for once) and the tile kernel
//! [`sums`]. The weight blocks of [`super::int8`] are already in the
//! layout `tdpbusd` reads its second tile in (16 weight rows, four bytes
//! of each in turn), so a block's next 64 columns are one 1 KiB tile.
//! The instructions are written with `asm!`: Rust's AMX intrinsics are not
//! stable.

/// Whether this processor and operating system run AMX int8 tiles (asked
/// once; on Linux this also asks for the permission to use them).
pub fn available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(detect)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn detect() -> bool {
    use std::arch::x86_64::{__cpuid_count, _xgetbv};
    if std::env::var_os("SPACEPORT_NO_AMX").is_some() {
        return false;
    }
    let max_leaf = __cpuid_count(0, 0).eax;
    if max_leaf < 0xd {
        return false;
    }
    let leaf7 = __cpuid_count(7, 0);
    let (tile, int8) = (leaf7.edx & (1 << 24) != 0, leaf7.edx & (1 << 25) != 0);
    let osxsave = __cpuid_count(1, 0).ecx & (1 << 27) != 0;
    if !(tile && int8 && osxsave && std::is_x86_feature_detected!("avx2")) {
        return false;
    }
    // The operating system saves the tile configuration and data (XCR0
    // bits 17 and 18).
    #[target_feature(enable = "xsave")]
    fn xcr0() -> u64 {
        // SAFETY: OSXSAVE is set, so XGETBV runs.
        unsafe { _xgetbv(0) }
    }
    // SAFETY: OSXSAVE implies XSAVE.
    if unsafe { xcr0() } & (0b11 << 17) != 0b11 << 17 {
        return false;
    }
    // Linux hands the tile data out per process on request
    // (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)).
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: a plain system call with integer arguments.
    let answer = unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        )
    };
    answer == 0
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn detect() -> bool {
    false
}

/// The most activation rows one [`sums`] call takes (two tiles' rows).
pub const ROWS: usize = 32;
/// The inner size must be a multiple of this (one tile row's bytes).
pub const K_STEP: usize = 64;

/// The tile configuration `ldtilecfg` reads (64 bytes).
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    /// Bytes a row of each tile.
    colsb: [u16; 16],
    /// Rows of each tile.
    rows: [u8; 16],
}

/// The int32 sums of `m` activation rows (`x`, `k` unsigned bytes each,
/// one after another) with the `nb` weight blocks at `w` (16 · k bytes
/// each, see `int8::BLOCK`), into `out[a · os + 16 · b + j]` — the same
/// as the VNNI kernels'. Tiles: sums for up to two row tiles (16 rows) ×
/// two blocks in `tmm0`–`tmm3`, the activation tiles in `tmm4`–`tmm5`,
/// the weight tiles in `tmm6`–`tmm7`.
///
/// # Safety
/// [`available`] returned true; `1 ≤ m ≤ ROWS`; `k` is a positive
/// multiple of [`K_STEP`]; `x` holds `m · k` bytes, `w` `nb · 16 · k`,
/// `out` `(m - 1) · os + 16 · nb` values.
#[cfg(target_arch = "x86_64")]
pub unsafe fn sums(
    x: *const u8,
    m: usize,
    w: *const i8,
    k: usize,
    nb: usize,
    out: *mut i32,
    os: usize,
) {
    use std::arch::asm;
    debug_assert!((1..=ROWS).contains(&m) && k > 0 && k.is_multiple_of(K_STEP));
    let (m0, m1) = (m.min(16), m.saturating_sub(16));
    let mut cfg = TileConfig {
        palette: 1,
        start_row: 0,
        reserved: [0; 14],
        colsb: [0; 16],
        rows: [0; 16],
    };
    // Sums (rows × 16 int32), activations (rows × 64 bytes), weights
    // (16 four-byte groups × 16 columns).
    let shapes = [
        (m0, 64),
        (m0, 64),
        (m1, 64),
        (m1, 64),
        (m0, 64),
        (m1, 64),
        (16, 64),
        (16, 64),
    ];
    for (t, (rows, bytes)) in shapes.into_iter().enumerate() {
        if rows > 0 {
            cfg.rows[t] = rows as u8;
            cfg.colsb[t] = bytes;
        }
    }
    let (xs, ws, ostride) = (k, 64usize, os * 4);
    // SAFETY: AMX is available (caller); the configuration is valid.
    unsafe { asm!("ldtilecfg [{c}]", c = in(reg) &cfg, options(nostack, readonly)) };
    let x1 = x.wrapping_add(16 * k);
    let mut b = 0;
    while b < nb {
        let two = b + 1 < nb;
        let w0 = w.wrapping_add(b * 16 * k);
        let w1 = w.wrapping_add((b + 1) * 16 * k);
        // SAFETY (all the tile operations below): rows `0..m` of `x`,
        // blocks `b` and `b + 1` (when `two`) of `w` and their sums in
        // `out` are inside the buffers (caller); tiles 2, 3 and 5 are
        // used only when there is a second row tile (m1 > 0).
        unsafe {
            asm!("tilezero tmm0", "tilezero tmm1", options(nostack, nomem));
            if m1 > 0 {
                asm!("tilezero tmm2", "tilezero tmm3", options(nostack, nomem));
            }
            let mut p = 0;
            while p < k {
                asm!(
                    "tileloadd tmm4, [{a} + {s}*1]",
                    "tileloadd tmm6, [{b} + {t}*1]",
                    "tdpbusd tmm0, tmm4, tmm6",
                    a = in(reg) x.add(p),
                    s = in(reg) xs,
                    b = in(reg) w0.add(p * 16),
                    t = in(reg) ws,
                    options(nostack, readonly),
                );
                if m1 > 0 {
                    asm!(
                        "tileloadd tmm5, [{a} + {s}*1]",
                        "tdpbusd tmm2, tmm5, tmm6",
                        a = in(reg) x1.add(p),
                        s = in(reg) xs,
                        options(nostack, readonly),
                    );
                }
                if two {
                    asm!(
                        "tileloadd tmm7, [{b} + {t}*1]",
                        "tdpbusd tmm1, tmm4, tmm7",
                        b = in(reg) w1.add(p * 16),
                        t = in(reg) ws,
                        options(nostack, readonly),
                    );
                    if m1 > 0 {
                        asm!("tdpbusd tmm3, tmm5, tmm7", options(nostack, nomem));
                    }
                }
                p += K_STEP;
            }
            let o = out.add(b * 16);
            asm!("tilestored [{o} + {s}*1], tmm0", o = in(reg) o, s = in(reg) ostride, options(nostack));
            if two {
                asm!("tilestored [{o} + {s}*1], tmm1", o = in(reg) o.add(16), s = in(reg) ostride, options(nostack));
            }
            if m1 > 0 {
                let o = o.add(16 * os);
                asm!("tilestored [{o} + {s}*1], tmm2", o = in(reg) o, s = in(reg) ostride, options(nostack));
                if two {
                    asm!("tilestored [{o} + {s}*1], tmm3", o = in(reg) o.add(16), s = in(reg) ostride, options(nostack));
                }
            }
        }
        b += 2;
    }
    // SAFETY: gives the tile state back (no operands).
    unsafe { asm!("tilerelease", options(nostack, nomem)) };
}
