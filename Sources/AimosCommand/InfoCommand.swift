import AimosCore
import AimosPipeline
import ArgumentParser

/// `aimos info MODEL`: architecture, classes, ensemble members, uncertainty, parameters, size.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a model file.")

    @Argument(help: "Model file (.safetensors), or a bundled model: ct (the default) or lightsheet.")
    var model: String?

    func run() throws {
        let (path, loaded) = try DefaultModel.load(model)
        let m = loaded.metadata
        print("model:        \(path)")
        print("architecture: \(m.values.architecture.name)")
        print("input size:   \(m.values.inputSize) x \(m.values.inputSize)")
        print("slice axis:   \(m.values.sliceAxis) (with --orientation none)")
        print("orientation:  \(m.values.orientation) (rows, columns, slices of its training slices)")
        print("crop:         \(m.values.cropsToBody ? "body" : "none")")
        print("members:      \(m.values.ensembleMembers)")
        print("uncertainty:  \(m.values.uncertainty ? "yes (extra output channel)" : "no")")
        print("parameters:   \(m.parameterCount)")
        print("file size:    \(m.fileBytes) bytes")
        print("classes:      \(m.values.classes.count)")
        for (i, name) in m.values.classes.enumerated() { print("  \(i): \(name.singleLine)") }
    }
}
