import AimosCore
import AimosPipeline
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `aimos info MODEL`: architecture, classes, ensemble members, uncertainty, parameters, size.
/// `aimos info --system`: the CPU, its kernel paths and the one aimos runs.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a model file, or (--system) this machine.")

    @Argument(help: "Model file (.safetensors), or a bundled model: ct (the default) or lightsheet.")
    var model: String?
    @Flag(help: "Describe this machine instead: CPU, kernel paths, the path in use.")
    var system = false

    func run() throws {
        if system { return try describeSystem() }
        let (path, loaded) = try DefaultModel.load(model)
        let m = loaded.metadata
        print("model:        \(path)")
        print("architecture: \(m.values.architecture.name)")
        print("input size:   \(m.values.inputSize) x \(m.values.inputSize)")
        print("slice axis:   \(m.values.sliceAxis) (with --orientation none)")
        print("orientation:  \(m.values.orientation) (rows, columns, slices of its training slices)")
        print("crop:         \(m.values.cropsToBody ? "body" : "none")")
        print("voxel size:   \(m.values.voxelSizeMM.map { "\($0) mm (the working grid of TIFF stacks)" } ?? "not recorded (TIFF stacks: 0.1 mm working grid)")")
        print("members:      \(m.values.ensembleMembers)")
        print("uncertainty:  \(m.values.uncertainty ? "yes (extra output channel)" : "no")")
        print("parameters:   \(m.parameterCount)")
        print("file size:    \(m.fileBytes) bytes")
        print("kernels:      \(loaded.kernelPath.rawValue) (prepared weights \(loaded.preparedWeightBytes) bytes)")
        print("classes:      \(m.values.classes.count)")
        for (i, name) in m.values.classes.enumerated() { print("  \(i): \(name.singleLine)") }
    }

    func describeSystem() throws {
        print("aimos:        \(AimosInfo.version)")
        print("cpu:          \(CPUKernelPath.cpuDescription)")
        print("cores:        \(sysconf(Int32(_SC_NPROCESSORS_ONLN)))")
        print("kernel paths: \(CPUKernelPath.supported.map(\.rawValue).joined(separator: ", ")) (best: \(CPUKernelPath.best.rawValue))")
        let chosen = try JobError.at(.model) { try CPUKernelPath.fromEnvironment() }
        let forced = getenv(CPUKernelPath.environmentVariable).map { String(cString: $0) } ?? ""
        print("in use:       \(chosen.rawValue)\(forced.isEmpty || forced == "auto" ? "" : " (\(CPUKernelPath.environmentVariable)=\(forced))")")
    }
}
