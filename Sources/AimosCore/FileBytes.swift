#if canImport(Glibc)
import Glibc
#endif

/// Reads a whole file into memory with plain libc calls (no Foundation in the library).
/// Errors are IO errors that name the path and the reason.
package enum FileBytes {
    package static func read(path: String, maxBytes: Int = 1 << 40) throws -> [UInt8] {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; the check below refuses it.
        // (No effect on the regular files that pass.)
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw AimosError(.io, "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw AimosError(.io, "cannot stat '\(path)': \(reason)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw AimosError(.io, "'\(path)' is not a regular file")
        }
        guard let file = fdopen(descriptor, "rb") else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw AimosError(.io, "cannot open '\(path)': \(reason)")
        }
        defer { fclose(file) }
        let size = Int(info.st_size)
        guard size <= maxBytes else { throw AimosError(.io, "'\(path)' is too large (\(size) bytes)") }
        try MemoryReserve.check(bytes: size, for: "reading '\(path)'")
        var bytes = [UInt8](repeating: 0, count: size)
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, file) }
        guard got == size else {
            throw AimosError(.io, "cannot read '\(path)': read \(got) of \(size) bytes")
        }
        return bytes
    }
}
