//! Giving memory back after a big transient allocation.
//!
//! Recovery and snapshot writing allocate a copy of the tree's worth of
//! small blocks and free them all at once. glibc keeps freed small blocks
//! in its arenas for reuse, so the process would stay at its peak size;
//! `malloc_trim` returns the free pages to the system.

/// Returns free heap pages to the system (glibc; nothing elsewhere).
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
