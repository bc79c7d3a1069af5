#if canImport(Glibc)
import Glibc
#endif

/// Reads a whole file into memory with plain libc calls (no Foundation in the library).
/// Errors are IO errors that name the path and the reason.
enum FileBytes {
    static func read(path: String, maxBytes: Int = 1 << 40) throws -> [UInt8] {
        var before = stat()
        if stat(path, &before) == 0, (before.st_mode & S_IFMT) != S_IFREG {
            throw AimosError(.io, "'\(path)' is not a regular file")
        }
        guard let file = fopen(path, "rb") else {
            throw AimosError(.io, "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var info = stat()
        guard fstat(fileno(file), &info) == 0 else {
            throw AimosError(.io, "cannot stat '\(path)': \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw AimosError(.io, "'\(path)' is not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= maxBytes else { throw AimosError(.io, "'\(path)' is too large (\(size) bytes)") }
        var bytes = [UInt8](repeating: 0, count: size)
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, file) }
        guard got == size else {
            throw AimosError(.io, "cannot read '\(path)': read \(got) of \(size) bytes")
        }
        return bytes
    }
}
