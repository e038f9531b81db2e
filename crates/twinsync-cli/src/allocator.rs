//! The command's allocator: the system's, asked for fewer, larger steps.
//!
//! A status of 100,000 files builds lists of ten megabytes and more (what each side's
//! walk found, the two snapshots, the drift) on several threads, and the memory came in
//! small steps: 30,000 page faults and 4,400 `mprotect` calls growing the threads' heaps,
//! about a seventh of its CPU. Two settings of glibc's own make the steps larger:
//! - Linux set to give transparent huge pages on request (the `madvise` mode, the
//!   default of many distributions) backs memory marked for them with 2 MiB pages, one
//!   fault where there were 512. [`HugePages`] marks every block of 4 MiB or more, as
//!   glibc's `glibc.malloc.hugetlb=1` marks all of its; that setting is read only from
//!   the environment at start-up, so the command cannot set it for itself. Where huge
//!   pages are off, or always on, the advice changes nothing.
//! - [`tune`] has a heap grow 16 MiB past what is asked at a time (`M_TOP_PAD`), which
//!   reserves address space, not memory: pages are still taken when first touched.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks this large are marked: big enough that rounding to 2 MiB pages wastes little.
const LARGE: usize = 4 << 20;
const HUGE_PAGE: usize = 2 << 20;

/// How far past a request a heap grows.
const TOP_PAD: i32 = 16 << 20;

/// [`System`], marking large blocks for huge pages.
pub struct HugePages;

/// Sets glibc's heap growth step; call before any thread starts. Another C library
/// keeps its own policy.
pub fn tune() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes a setting of the allocator; no thread but this one
    // has started yet.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, TOP_PAD);
    }
}

/// Marks the whole huge pages inside the block at `p`, `len` bytes long. Only advice:
/// a failure leaves ordinary pages, so it is ignored.
fn advise(p: *mut u8, len: usize) {
    let start = (p as usize).next_multiple_of(HUGE_PAGE);
    let end = (p as usize + len) & !(HUGE_PAGE - 1);
    if end > start {
        // SAFETY: the range lies inside a block the allocator just gave out; the advice
        // changes how its pages are backed, never their contents.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    }
}

// SAFETY: every call is passed to `System` unchanged; `advise` only adds advice on the
// block `System` returned.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if layout.size() >= LARGE && !p.is_null() {
            advise(p, layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if layout.size() >= LARGE && !p.is_null() {
            advise(p, layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if new_size >= LARGE && !q.is_null() {
            advise(q, new_size);
        }
        q
    }
}

#[cfg(test)]
mod tests {
    /// Blocks around the mark keep what is written in them, through growth and shrinking.
    #[test]
    fn large_blocks_hold_their_contents() {
        for n in [super::LARGE - 1, super::LARGE, 3 * super::LARGE + 12345] {
            let mut v: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            v.resize(2 * n, 7);
            assert!(v[..n].iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
            assert!(v[n..].iter().all(|b| *b == 7));
            v.truncate(n / 2);
            v.shrink_to_fit();
            assert!(v.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
            let z = vec![0u64; n / 8];
            assert!(z.iter().all(|x| *x == 0));
        }
    }
}
