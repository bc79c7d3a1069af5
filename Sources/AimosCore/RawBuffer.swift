#if canImport(Glibc)
import Glibc
#endif

/// Allocation that reports failure instead of trapping, so a huge volume gives
/// AIMOS_ERROR_OUT_OF_MEMORY rather than a crash. The caller frees with `free`.
enum RawBuffer {
    static func allocate<T>(_ type: T.Type, count: Int, zeroed: Bool = false, what: String) throws -> UnsafeMutablePointer<T> {
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !overflow, let raw = zeroed ? calloc(1, bytes) : malloc(bytes) else {
            throw AimosError(.outOfMemory, "cannot allocate \(count) elements for \(what)")
        }
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }
}
