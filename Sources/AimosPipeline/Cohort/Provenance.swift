import AimosCore

#if canImport(Glibc)
import Glibc
#endif

/// A scan's provenance sidecar (NAME_provenance.json): which aimos, model, options and input
/// made its outputs, each output's size and SHA-256, the layout used and the time taken. Written
/// last, in the same atomic commit as the outputs, so its presence means the outputs are
/// complete; a cohort run's resume and `aimos cohort-table` read it back.
package struct Provenance {
    /// What identifies the run apart from its outputs: a rerun with the same input, model and
    /// options may skip the scan.
    package struct Request {
        package var name: String
        package var scan: CohortScan
        package var modelPath: String
        package var modelSHA256: String
        package var options: JSONValue
        /// Worker threads (recorded, but not compared on resume: they do not change the outputs).
        package var threads = 0

        package init(name: String, scan: CohortScan, modelPath: String, modelSHA256: String, options: JSONValue) {
            self.name = name
            self.scan = scan
            self.modelPath = modelPath
            self.modelSHA256 = modelSHA256
            self.options = options
        }
    }

    /// The input's size and modification time (newest file of a folder): what resume compares,
    /// so that a scan is not hashed again to be skipped.
    package struct InputStamp: Equatable {
        package let bytes: Int
        package let modified: Int

        package init(path: String) throws {
            var info = stat()
            guard stat(path, &info) == 0 else { throw AimosError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))") }
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                bytes = Int(info.st_size)
                modified = Int(info.st_mtim.tv_sec)
                return
            }
            var total = 0, newest = 0
            for name in try FolderListing.regularFiles(in: path) {
                var file = stat()
                guard stat(path + "/" + name, &file) == 0 else { continue }
                total += Int(file.st_size)
                newest = max(newest, Int(file.st_mtim.tv_sec))
            }
            bytes = total
            modified = newest
        }
    }

    /// The sidecar's path for a scan named `name` in `directory`.
    package static func sidecarPath(directory: String, name: String) -> String { "\(directory)/\(name)_provenance.json" }

    /// The sidecar's JSON. `outputs`: kind -> (final path, temporary path holding its bytes).
    package static func json(request: Request, sidecarPath: String, inputPath: String, input: (hex: String, bytes: Int, files: Int),
                             stamp: InputStamp, layout: JSONValue, seconds: Double,
                             outputs: [(kind: String, final: String, temporary: String)]) throws -> String {
        let scan = request.scan
        let optional: (String?) -> JSONValue = { $0.map { .string($0) } ?? .null }
        let here = AtomicOutputs.directory(of: sidecarPath)
        let files = try outputs.map { kind, final, temporary -> (String, JSONValue) in
            let digest = try SHA256.of(path: temporary)
            // Beside the sidecar: the bare name (the folder can move); elsewhere: absolute.
            let name = String(final.split(separator: "/").last ?? Substring(final))
            let folder = AtomicOutputs.directory(of: final)
            let file = folder == here ? name : absolutePath(folder) + "/" + name
            return (kind, .object([("file", .string(file)), ("bytes", .int(digest.bytes)), ("sha256", .string(digest.hex))]))
        }
        var inputMembers: [(String, JSONValue)] = [("path", .string(inputPath)), ("absolute_path", .string(absolutePath(inputPath))),
                                                   ("sha256", .string(input.hex)),
                                                   ("bytes", .int(input.bytes)), ("modified", .int(stamp.modified))]
        if FolderListing.isDirectory(inputPath) { inputMembers.append(("files", .int(input.files))) }
        let modelName = String(request.modelPath.split(separator: "/").last ?? "")
        let value = JSONValue.object([
            ("aimos_version", .string(AimosInfo.version.description)),
            ("created", .string(utcTimestamp())),
            ("seconds", .real((seconds * 1000).rounded() / 1000)),
            ("scan", .object([("name", .string(request.name)), ("mouse", optional(scan.mouse)),
                              ("timepoint", optional(scan.timepoint)), ("annotator", optional(scan.annotator))])),
            ("input", .object(inputMembers)),
            ("model", .object([("name", .string(modelName)), ("path", .string(request.modelPath)),
                               ("sha256", .string(request.modelSHA256))])),
            ("options", request.options),
            ("threads", .int(request.threads)),
            ("layout", layout),
            ("outputs", .object(files)),
        ])
        return value.serialized(pretty: true) + "\n"
    }

    /// Whether the outputs recorded by the sidecar at `path` are complete for `request`: the
    /// same input (size and time), model and options, and every output in `kinds` present at its
    /// recorded size. Returns nil when complete, else why not.
    package static func incompleteness(sidecar path: String, request: Request, inputPath: String, kinds: [String]) -> String? {
        guard access(path, F_OK) == 0 else { return "no provenance sidecar" }
        guard let json = read(sidecar: path) else { return "its provenance sidecar is unreadable" }
        guard json["aimos_version"]?.stringValue == AimosInfo.version.description else { return "another aimos version made it" }
        guard json["input"]?["absolute_path"]?.stringValue == absolutePath(inputPath),
              let stamp = try? InputStamp(path: inputPath),
              json["input"]?["bytes"]?.int64Value == Int64(stamp.bytes),
              json["input"]?["modified"]?.int64Value == Int64(stamp.modified) else { return "the input changed" }
        guard json["model"]?["sha256"]?.stringValue == request.modelSHA256 else { return "the model changed" }
        guard json["options"] == request.options else { return "the options changed" }
        let directory = AtomicOutputs.directory(of: path)
        for kind in kinds {
            guard let entry = json["outputs"]?[kind], let file = entry["file"]?.stringValue,
                  let size = entry["bytes"]?.int64Value else { return "no \(kind) output recorded" }
            var info = stat()
            guard stat(resolve(file, besides: directory), &info) == 0, Int64(info.st_size) == size else {
                return "its \(kind) output '\(file)' is missing or of another size"
            }
        }
        return nil
    }

    /// A sidecar's JSON, nil when missing or unreadable.
    package static func read(sidecar path: String) -> JSONValue? {
        guard let bytes = try? FileBytes.read(path: path) else { return nil }
        return try? JSONValue.parse(bytes)
    }

    /// An output's recorded file: a bare name lies beside the sidecar, an absolute path is itself.
    package static func resolve(_ file: String, besides directory: String) -> String {
        file.hasPrefix("/") ? file : directory + "/" + file
    }

    /// The outputs a sidecar records, as paths (for removing an outdated run's files).
    package static func recordedOutputs(sidecar path: String) -> [String] {
        guard let outputs = read(sidecar: path)?["outputs"]?.objectValue else { return [] }
        let directory = AtomicOutputs.directory(of: path)
        return outputs.compactMap { $0.1["file"]?.stringValue.map { resolve($0, besides: directory) } }
    }

    /// The path with symbolic links and relative parts resolved (as given when that fails).
    static func absolutePath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Now, as 2026-12-02T01:23:45Z.
    static func utcTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(cString: buffer)
    }
}
