import AimosCore
import AimosPipeline
import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// The `aimos` command: `aimos segment` (scan to label map, organ table, preview) and
/// `aimos info` (what a model file holds).
@main
struct AimosCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aimos",
        abstract: "Whole-body mouse organ segmentation (AIMOS) of micro-CT and light-sheet scans.",
        version: AimosInfo.version.description,
        subcommands: [SegmentCommand.self, CohortTableCommand.self, InfoCommand.self, VolumesCommand.self, EvaluateCommand.self,
                      DisagreementCommand.self, VariabilityCommand.self, AllocateCommand.self, BenchCommand.self])

    /// Exit codes: 0 success, 1 usage, 2 input error, 3 model error, 4 internal, 130 cancelled.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as JobError {
            fail(message(for: error.error), code: ExitCodes.code(for: error))
        } catch let error as AimosError {
            fail(message(for: error), code: ExitCodes.code(for: JobError(stage: .engine, error: error)))
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let message = fullMessage(for: error)
            fputs(message + (message.hasSuffix("\n") ? "" : "\n"), stderr)
            Glibc.exit(ExitCodes.usage)
        }
    }

    /// What the user reads for an engine error: Ctrl-C reaches the engine as a cancelling
    /// progress report, so cancelling is said in the user's terms.
    static func message(for error: AimosError) -> String {
        error.kind == .cancelled ? "cancelled; no output of the scan in progress was written" : error.message
    }

    static func fail(_ message: String, code: Int32) -> Never {
        fputs("aimos: \(message)\n", stderr)
        Glibc.exit(code)
    }
}

enum ExitCodes {
    static let usage: Int32 = 1, input: Int32 = 2, model: Int32 = 3, internalError: Int32 = 4, cancelled: Int32 = 130

    static func code(for error: JobError) -> Int32 {
        switch error.error.kind {
        case .cancelled: return cancelled
        case .outOfMemory, .internal: return internalError
        default: break
        }
        switch error.stage {
        case .model: return model
        case .input, .output: return input
        case .engine: return internalError
        }
    }
}
