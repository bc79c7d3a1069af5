import AimosCore
import AimosPipeline

#if canImport(Glibc)
import Glibc
#endif

/// Where `aimos` finds the bundled demo model when no --model is given: $AIMOS_MODEL, then
/// <prefix>/share/aimos/models/ next to an installed binary, then models/ of the source tree
/// for a binary in .build/<config>/.
enum DefaultModel {
    static let fileName = "aimos-demo.safetensors"

    static func path() -> String? {
        if let env = getenv("AIMOS_MODEL") { return String(cString: env) }
        let executable = executablePath()
        let directory = executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let candidates = ["\(directory)/../share/aimos/models/\(fileName)",
                          "\(directory)/../../models/\(fileName)",
                          "\(directory)/../../../models/\(fileName)"]
        return candidates.first { access($0, R_OK) == 0 }
    }

    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(cString: buffer) : CommandLine.arguments[0]
    }
}

extension DefaultModel {
    /// Loads the model at `path`, or the bundled one; failures are model errors (exit code 3).
    static func load(_ path: String?) throws -> (path: String, model: AimosModel) {
        guard let resolved = path ?? DefaultModel.path() else {
            throw JobError(stage: .model, error: AimosError(.io, "no model given and the bundled demo model was not found (set AIMOS_MODEL)"))
        }
        return (resolved, try JobError.at(.model) { try AimosModel(path: resolved) })
    }
}
