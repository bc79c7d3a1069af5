import AimosCore
import Foundation
import AimosPipeline

#if canImport(Glibc)
import Glibc
#endif

/// Where `aimos` finds a bundled model: with no --model, $AIMOS_MODEL or the bundled micro-CT
/// model; `--model ct` or `--model lightsheet` names a bundled one. Bundled models lie in
/// <prefix>/share/aimos/models/ next to an installed binary, or in models/ of the source tree for
/// a binary in .build/<config>/.
enum DefaultModel {
    /// Bundled model names and their files (MODELS.md describes each).
    static let bundled: [(name: String, file: String)] = [("ct", "aimos-demo.safetensors"),
                                                          ("lightsheet", "aimos-lightsheet.safetensors")]
    static let fileName = bundled[0].file

    static func path() -> String? {
        if let env = getenv("AIMOS_MODEL") { return String(cString: env) }
        return bundledPath(fileName)
    }

    static func bundledPath(_ file: String) -> String? {
        let executable = executablePath()
        let directory = executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let candidates = ["\(directory)/../share/aimos/models/\(file)",
                          "\(directory)/../../models/\(file)",
                          "\(directory)/../../../models/\(file)",
                          // a build in its own scratch directory (.build/asan/<triple>/debug)
                          "\(directory)/../../../../models/\(file)"]
        return candidates.first { access($0, R_OK) == 0 }.map { URL(fileURLWithPath: $0).standardized.path }
    }

    /// A --model value: a bundled model's name (unless a file of that name exists), else a path.
    static func resolve(_ value: String) throws -> String {
        guard let entry = bundled.first(where: { $0.name == value.lowercased() }), access(value, F_OK) != 0 else { return value }
        guard let path = bundledPath(entry.file) else {
            throw JobError(stage: .model, error: AimosError(.io, "the bundled \(entry.name) model (\(entry.file)) was not found next to the aimos command"))
        }
        return path
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
        guard let resolved = try path.map(resolve) ?? DefaultModel.path() else {
            throw JobError(stage: .model, error: AimosError(.io, "no model given and the bundled micro-CT model was not found (set AIMOS_MODEL or give --model)"))
        }
        return (resolved, try JobError.at(.model) { try AimosModel(path: resolved) })
    }
}
