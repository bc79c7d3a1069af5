import CAimosKernels

/// A Swift array traps when its allocation fails, so before a step builds arrays of a size it
/// can compute (the body search's grids, a file's bytes), it asks here whether that much memory
/// can be had now: if not, the step throws AIMOS_ERROR_OUT_OF_MEMORY instead of trapping
/// part-way. Volume-sized buffers do not rely on this: they come from a BufferArena.
enum MemoryReserve {
    static func check(bytes: Int, for what: String) throws {
        guard bytes > 0 else { return }
        guard aimk_can_allocate(bytes) != 0 else {
            throw AimosError(.outOfMemory, "cannot allocate \(bytes) bytes for \(what)")
        }
    }
}
