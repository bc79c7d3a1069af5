#if canImport(Glibc)
import Glibc
#endif
import AimosCore

/// A set of output files written atomically: each is first written to a temporary file in
/// its own directory (same extension, so libnifti picks the same format), and all are renamed
/// into place only when every one was written. On failure or cancellation the temporary files
/// are removed, so no half-written output is ever left behind.
package final class AtomicOutputs {
    private var pending: [(temporary: String, final: String)] = []
    private let overwrite: Bool

    package init(overwrite: Bool) { self.overwrite = overwrite }

    deinit { discard() }

    /// Checks a destination before any work starts: not already there (unless overwriting),
    /// and its directory exists.
    package func check(_ path: String) throws {
        if !overwrite, access(path, F_OK) == 0 {
            throw AimosError(.io, "'\(path)' exists; use --overwrite to replace it")
        }
        let directory = AtomicOutputs.directory(of: path)
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw AimosError(.io, "cannot write '\(path)': directory '\(directory)' does not exist")
        }
        guard access(directory, W_OK) == 0 else {
            throw AimosError(.io, "cannot write '\(path)': directory '\(directory)' is not writable")
        }
    }

    /// A temporary path for `path`, to be written by the caller; renamed by `commit`.
    package func temporaryPath(for path: String) throws -> String {
        try check(path)
        let directory = AtomicOutputs.directory(of: path)
        let name = String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        // Unique without shared state: several jobs may run at once in one process.
        let temporary = "\(directory)/.aimos-\(getpid())-\(UInt64.random(in: 0...UInt64.max))-\(name)"
        pending.append((temporary, path))
        return temporary
    }

    /// A temporary folder for the folder output `path` (created empty), renamed by `commit`.
    package func temporaryDirectory(for path: String) throws -> String {
        let temporary = try temporaryPath(for: path)
        guard mkdir(temporary, 0o755) == 0 else {
            pending.removeLast()
            throw AimosError(.io, "cannot create a folder next to '\(path)': \(String(cString: strerror(errno)))")
        }
        return temporary
    }

    /// The files written so far and not yet committed.
    package var pendingFiles: [(temporary: String, final: String)] { pending }

    /// Writes a small text file through a temporary path.
    package func writeText(_ text: String, to path: String) throws {
        let temporary = try temporaryPath(for: path)
        guard let file = fopen(temporary, "wb") else {
            throw AimosError(.io, "cannot create '\(path)': \(String(cString: strerror(errno)))")
        }
        let bytes = Array(text.utf8)
        let written = fwrite(bytes, 1, bytes.count, file)
        let closed = fclose(file)
        guard written == bytes.count, closed == 0 else { throw AimosError(.io, "cannot write '\(path)' (disk full?)") }
    }

    /// One text file, written through a temporary path and moved into place.
    package static func writeText(_ text: String, to path: String, overwrite: Bool) throws {
        let outputs = AtomicOutputs(overwrite: overwrite)
        try outputs.writeText(text, to: path)
        try outputs.commit()
    }

    /// Renames every temporary file into place. A folder output replaces an old folder: every
    /// old folder is moved aside first (rename cannot replace a folder that has files), so a
    /// failure before any output is in place changes nothing, and a failed rename puts the old
    /// folders back.
    package func commit() throws {
        var asides: [(old: String, final: String)] = []
        func restore() { for (old, final) in asides.reversed() { rename(old, final) } }
        for (temporary, final) in pending {
            if !overwrite, access(final, F_OK) == 0 {
                throw AimosError(.io, "'\(final)' appeared while aimos was running; not replaced")
            }
            if overwrite, AtomicOutputs.isFolder(temporary), AtomicOutputs.isFolder(final) {
                guard rename(final, temporary + ".old") == 0 else {
                    let reason = String(cString: strerror(errno))
                    restore()
                    throw AimosError(.io, "cannot replace the folder '\(final)': \(reason)")
                }
                asides.append((temporary + ".old", final))
            }
        }
        for (temporary, final) in pending {
            guard rename(temporary, final) == 0 else {
                let reason = String(cString: strerror(errno))
                restore()
                throw AimosError(.io, "cannot move the output into '\(final)': \(reason)")
            }
        }
        for (old, _) in asides { AtomicOutputs.remove(old) }
        pending.removeAll()
    }

    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Removes a file, or a folder of files (aimos's own folder outputs hold no subfolders).
    static func remove(_ path: String) {
        if isFolder(path), let names = try? FolderListing.regularFiles(in: path) {
            for name in names { unlink(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Removes the temporary files not yet committed.
    package func discard() {
        for (temporary, _) in pending { AtomicOutputs.remove(temporary) }
        pending.removeAll()
    }

    /// Whether two paths name the same existing file (device and inode), however spelled.
    package static func sameFile(_ a: String, _ b: String) -> Bool {
        var x = stat(), y = stat()
        guard stat(a, &x) == 0, stat(b, &y) == 0 else { return false }
        return x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
