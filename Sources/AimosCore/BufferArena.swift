#if canImport(Glibc)
import Glibc
#endif

/// Buffers that report a failed allocation instead of trapping (a huge volume gives
/// AIMOS_ERROR_OUT_OF_MEMORY rather than a crash) and never move (the C ABI hands out their
/// pointers): plain malloc, all freed together when the arena goes. An owner builds its
/// buffers in a local arena and keeps it only once every allocation succeeded, so a failure
/// part-way frees what was taken.
package final class BufferArena {
    private var blocks: [UnsafeMutableRawPointer] = []
    /// Bytes allocated, to size the number of workers to the machine's memory.
    private(set) var bytes = 0

    package init() {}

    package func allocate<T>(_ type: T.Type, count: Int, zeroed: Bool = false, what: String) throws -> UnsafeMutablePointer<T> {
        let (size, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !overflow, let raw = zeroed ? calloc(1, size) : malloc(size) else {
            throw AimosError(.outOfMemory, "cannot allocate \(count) elements for \(what)")
        }
        blocks.append(raw)
        bytes += size
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    package func floats(_ count: Int, _ what: String) throws -> UnsafeMutablePointer<Float> {
        try allocate(Float.self, count: count, what: what)
    }

    deinit { blocks.forEach { free($0) } }
}
