//! Giving memory back after a big transient allocation.
//!
//! Recovery and snapshot writing allocate a tree's worth of temporaries
//! and free them at once. The binary's allocator is jemalloc (see
//! `main.rs`), which would return such pages only as they decay; a purge
//! returns them now, so the process settles at the tree's own size.

/// Returns the free pages of every jemalloc arena to the system. Where
/// jemalloc is not the allocator (the library's tests), it has nothing
/// to purge.
pub fn trim() {
    // SAFETY: "arena.<MALLCTL_ARENAS_ALL>.purge" takes and returns nothing.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"arena.4096.purge".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}
